"""QR labels: each opens the asset's public repair page; sheets print them on A4."""

from __future__ import annotations

import io

import pypdfium2
import zxingcpp
from PIL import Image
from sqlalchemy import select

from api.assets.models import Asset
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories


def _token(factories: Factories, asset_id: object) -> str:
    with factories.uow() as uow:
        return uow.session.scalars(select(Asset.label_token).where(Asset.id == asset_id)).one()


def test_an_asset_label_is_a_qr_code_of_its_public_repair_url(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    asset = factories.asset(world, factories.site(world, factories.customer(world)))
    api = client.as_(world.admin_token)
    token = _token(factories, asset.id)

    png = api.get(f"/v1/assets/{asset.id}/label?format=png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    assert [(c.format.name, c.text) for c in decoded] == [("QRCode", f"http://localhost/r/{token}")]
    svg = api.get(f"/v1/assets/{asset.id}/label")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data and b"<script" not in svg.data
    assert svg.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in svg.headers["Content-Security-Policy"]
    assert len(token) >= 32 and str(asset.id) not in token


def test_another_tenant_cannot_print_or_read_our_labels(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    asset = factories.asset(world, factories.site(world, factories.customer(world)))
    intruder = client.as_(factories.tenant().admin_token)

    assert_problem(intruder.get(f"/v1/assets/{asset.id}/label"), 404, "asset.not_found")
    sheet = intruder.post("/v1/asset-label-sheets", json={"asset_ids": [str(asset.id)]})
    assert_problem(sheet, 404, "asset.not_found")


def test_a_label_sheet_is_an_a4_pdf_whose_codes_scan_to_each_asset(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    site = factories.site(world, factories.customer(world))
    assets = [factories.asset(world, site, name=f"{n} 号空调外机") for n in range(1, 5)]
    api = client.as_(world.admin_token)

    sheet = api.post("/v1/asset-label-sheets", json={"asset_ids": [str(a.id) for a in assets]})
    assert sheet.status_code == 200, sheet.get_data(as_text=True)
    assert sheet.mimetype == "application/pdf"
    assert "attachment" in sheet.headers["Content-Disposition"]
    document = pypdfium2.PdfDocument(sheet.data)
    assert len(document) == 1
    width, height = document[0].get_size()
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    page = document[0].render(scale=3).to_pil()
    found = {c.text for c in zxingcpp.read_barcodes(page)}
    expected = {f"http://localhost/r/{_token(factories, a.id)}" for a in assets}
    assert found == expected


def test_replacing_a_label_retires_the_old_repair_link(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    asset = factories.asset(world, factories.site(world, factories.customer(world)))
    old = _token(factories, asset.id)
    api = client.as_(world.admin_token)

    replaced = api.post(f"/v1/assets/{asset.id}/label-replacement")
    assert replaced.status_code == 200, replaced.get_json()
    new = _token(factories, asset.id)
    assert new != old and replaced.get_json()["label_url"].endswith(f"/r/{new}")
    assert_problem(client.get(f"/r/{old}/asset"), 404, "repair.link_not_found")
    assert client.get(f"/r/{new}/asset").status_code == 200
