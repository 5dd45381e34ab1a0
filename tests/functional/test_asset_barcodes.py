"""The asset registry keyed by barcode: symbology checks, GS1 fields, bad codes kept out."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.conftest import count_rows
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories

GS = "\x1d"


def test_a_gs1_data_matrix_asset_keeps_its_fields_and_one_form_of_its_value(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    site = factories.site(world, factories.customer(world))
    api = client.as_(world.admin_token)

    created = api.post(
        "/v1/assets",
        json={
            "site_id": str(site.id),
            "name": "输液泵",
            "barcode_value": "]d2010950110153000317270131" + "10LOT-7" + GS + "21SN0042",
            "barcode_symbology": "data_matrix",
        },
    )
    assert created.status_code == 201, created.get_json()
    asset = created.get_json()
    assert asset["barcode_value"] == "(01)09501101530003(17)270131(10)LOT-7(21)SN0042"
    assert asset["gs1"] == {
        "gtin": "09501101530003",
        "serial": "SN0042",
        "lot": "LOT-7",
        "expires_on": "2027-01-31",
    }
    # The same label read by a reader that sends the printed form finds the same asset.
    listed = api.get(
        "/v1/assets", query_string={"barcode": "(01)09501101530003(17)270131(10)LOT-7(21)SN0042"}
    )
    assert [a["id"] for a in listed.get_json()["items"]] == [asset["id"]]
    # Dropping the barcode drops what was read from it.
    cleared = api.patch(
        f"/v1/assets/{asset['id']}",
        json={"barcode_value": None, "barcode_symbology": None},
        etag='"1"',
    )
    assert cleared.status_code == 200, cleared.get_json()
    assert cleared.get_json()["gs1"] is None


@pytest.mark.parametrize(
    ("value", "symbology", "code"),
    [
        ("4006381333932", "ean_13", "barcode.check_digit_invalid"),
        ("036000291453", "upc_a", "barcode.check_digit_invalid"),
        ("96385075", "ean_8", "barcode.check_digit_invalid"),
        ("(01)09501101530004(21)SN1", "data_matrix", "barcode.check_digit_invalid"),
        ("40063813339", "ean_13", "barcode.malformed"),
        ("设备", "code_128", "barcode.malformed"),
        ("(17)271331", "qr", "barcode.gs1_invalid"),
    ],
)
def test_a_bad_code_is_refused_and_nothing_is_kept(
    client: ApiClient, factories: Factories, engine: Engine, value: str, symbology: str, code: str
) -> None:
    world = factories.tenant()
    site = factories.site(world, factories.customer(world))
    api = client.as_(world.admin_token)
    before = count_rows(engine)

    refused = api.post(
        "/v1/assets",
        json={
            "site_id": str(site.id),
            "name": "冷水机组",
            "barcode_value": value,
            "barcode_symbology": symbology,
        },
    )
    assert_problem(refused, 422, code)
    assert count_rows(engine) == before


def test_changing_only_the_symbology_rechecks_the_stored_value(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    site = factories.site(world, factories.customer(world))
    asset = factories.asset(world, site, barcode_value="4006381333932", barcode_symbology="qr")
    api = client.as_(world.admin_token)

    refused = api.patch(f"/v1/assets/{asset.id}", json={"barcode_symbology": "ean_13"}, etag='"1"')
    assert_problem(refused, 422, "barcode.check_digit_invalid")
    assert api.get(f"/v1/assets/{asset.id}").get_json()["barcode_symbology"] == "qr"


def test_two_forms_of_one_gs1_code_cannot_name_two_assets(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    site = factories.site(world, factories.customer(world))
    factories.asset(
        world, site, barcode_value="(01)09501101530003(21)A1", barcode_symbology="code_128"
    )
    api = client.as_(world.admin_token)

    taken = api.post(
        "/v1/assets",
        json={
            "site_id": str(site.id),
            "name": "第二台",
            "barcode_value": "]C10109501101530003" + "21A1",
            "barcode_symbology": "code_128",
        },
    )
    assert_problem(taken, 409, "asset.barcode_taken")
