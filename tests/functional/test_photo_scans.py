"""Codes read from a photo (zxing-cpp), matched to the caller's tenant's assets."""

from __future__ import annotations

import io

import segno
import zxingcpp
from PIL import Image
from sqlalchemy import Engine

from tests.conftest import count_rows
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.images import jpeg


def _symbol(text: str, kind: zxingcpp.BarcodeFormat, scale: int) -> Image.Image:
    pixels = memoryview(zxingcpp.create_barcode(text, kind).to_image(scale=scale))
    return Image.frombytes("L", (pixels.shape[1], pixels.shape[0]), pixels.tobytes())


def _photo(fmt: str = "JPEG", qr_text: str = "https://example.com/unknown") -> bytes:
    """A "photo" of a shelf: an EAN-13, a Code 128 and a QR code on a grey background."""
    canvas = Image.new("L", (1400, 900), 200)
    canvas.paste(_symbol("4006381333931", zxingcpp.BarcodeFormat.EAN13, 4), (60, 60))
    canvas.paste(_symbol("PUMP-0042", zxingcpp.BarcodeFormat.Code128, 3), (60, 500))
    qr = io.BytesIO()
    segno.make_qr(qr_text).save(qr, kind="png", scale=8)
    canvas.paste(Image.open(qr).convert("L"), (900, 300))
    out = io.BytesIO()
    canvas.convert("RGB").save(out, fmt, quality=92)
    return out.getvalue()


def _post(api: ApiClient, body: bytes, content_type: str = "image/jpeg"):
    return api.post("/v1/scans/photo", data=body, content_type=content_type)


def test_codes_in_a_photo_are_read_and_matched_to_our_assets_only(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    site = factories.site(world, factories.customer(world))
    ean = factories.asset(world, site, barcode_value="4006381333931", barcode_symbology="ean_13")
    theirs = factories.tenant()
    factories.asset(theirs, factories.site(theirs, factories.customer(theirs)),
                    barcode_value="PUMP-0042")  # fmt: skip
    before = count_rows(engine)

    read = _post(client.as_(world.admin_token), _photo())
    assert read.status_code == 200, read.get_json()
    codes = {c["code"]: c for c in read.get_json()["codes"]}
    assert set(codes) == {"4006381333931", "PUMP-0042", "https://example.com/unknown"}
    assert codes["4006381333931"]["symbology"] == "ean_13"
    assert codes["4006381333931"]["asset"]["id"] == str(ean.id)
    assert codes["PUMP-0042"]["symbology"] == "code_128"
    assert codes["PUMP-0042"]["asset"] is None  # another tenant's asset is unknown here
    assert codes["https://example.com/unknown"]["asset"] is None
    assert all(c["problem"] is None for c in codes.values())
    assert count_rows(engine) == before  # reading a photo makes nothing


def test_a_printed_label_in_a_photo_names_its_asset_and_another_tenants_label_none(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    ours = factories.asset(world, factories.site(world, factories.customer(world)))
    theirs = factories.tenant()
    foreign = factories.asset(theirs, factories.site(theirs, factories.customer(theirs)))
    api = client.as_(world.admin_token)

    label = f"https://fieldline.example.cn/r/{ours.label_token}"
    (code,) = [
        c for c in _post(api, _photo(qr_text=label)).get_json()["codes"] if c["code"] == label
    ]
    assert code["asset"]["id"] == str(ours.id) and code["problem"] is None
    label = f"https://fieldline.example.cn/r/{foreign.label_token}"
    (code,) = [
        c for c in _post(api, _photo(qr_text=label)).get_json()["codes"] if c["code"] == label
    ]
    assert code["asset"] is None and code["problem"] == "asset.label_unknown"


def test_a_png_photo_reads_too(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    read = _post(client.as_(world.admin_token), _photo("PNG"), "image/png")
    assert len(read.get_json()["codes"]) == 3


def test_a_photo_without_codes_reads_none_and_a_non_image_is_refused(
    client: ApiClient, factories: Factories
) -> None:
    api = client.as_(factories.tenant().admin_token)
    assert _post(api, jpeg("wall", (200, 150))).get_json() == {"codes": []}
    refused = _post(api, b"<svg onload=alert(1)></svg>", "image/jpeg")
    assert refused.status_code in (415, 422) and refused.get_json()["code"].startswith("media.")
    customer = factories.scene().contact_token
    assert_problem(_post(client.as_(customer), _photo()), 403, "auth.forbidden")
