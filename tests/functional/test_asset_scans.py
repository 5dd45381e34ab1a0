"""Scanning codes online: asset, site, warranty, history; provisional assets and merging."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import Engine, select

from api.evidence.models import Reading
from api.workorders.models import WorkOrderAsset
from api.workorders.states import Status
from tests.conftest import count_rows
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories


def test_a_scan_shows_the_asset_its_site_warranty_history_and_open_orders(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world, site = scene.world, scene.site
    asset = factories.asset(
        world,
        site,
        barcode_value="4006381333931",
        barcode_symbology="ean_13",
        warranty_ends_on=date.today() + timedelta(days=400),
    )
    other = factories.asset(world, site)
    done = factories.work_order(world, scene.customer, site, asset_ids=[asset.id])
    factories.advance(world, done, Status.CLOSED, scene.technician)
    open_order = factories.work_order(world, scene.customer, site, asset_ids=[asset.id])
    factories.work_order(world, scene.customer, site, asset_ids=[other.id])
    api = client.as_(scene.dispatcher_token)

    scanned = api.post("/v1/scans", json={"code": "4006381333931", "symbology": "ean_13"})
    assert scanned.status_code == 200, scanned.get_json()
    body = scanned.get_json()
    assert body["asset"]["id"] == str(asset.id) and body["provisional_created"] is False
    assert body["site"]["id"] == str(site.id)
    assert body["warranty"]["status"] == "active"
    assert [o["id"] for o in body["open_work_orders"]] == [str(open_order.id)]
    assert [o["id"] for o in body["service_history"]] == [str(done.id)]
    assert body["service_history"][0]["status"] == "closed"


def test_expired_and_unknown_warranties_are_told_apart(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    site = factories.site(world, factories.customer(world))
    factories.asset(world, site, barcode_value="OLD-1", warranty_ends_on=date(2020, 1, 31))
    factories.asset(world, site, barcode_value="NONE-1")
    api = client.as_(world.admin_token)

    old = api.post("/v1/scans", json={"code": "OLD-1"}).get_json()["warranty"]
    assert old == {"status": "expired", "ends_on": "2020-01-31"}
    none = api.post("/v1/scans", json={"code": "NONE-1"}).get_json()["warranty"]
    assert none == {"status": "unknown", "ends_on": None}


def test_a_bad_check_digit_is_refused_before_anything_is_made(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    site = factories.site(world, factories.customer(world))
    api = client.as_(world.admin_token)
    before = count_rows(engine)

    refused = api.post(
        "/v1/scans",
        json={"code": "4006381333932", "symbology": "ean_13", "site_id": str(site.id)},
    )
    assert_problem(refused, 422, "barcode.check_digit_invalid")
    assert count_rows(engine) == before


def test_an_unknown_code_without_a_place_is_not_found(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    assert_problem(api.post("/v1/scans", json={"code": "NEW-9"}), 404, "asset.not_found")


def test_another_tenants_code_is_unknown_here_and_becomes_our_provisional_asset(
    client: ApiClient, factories: Factories
) -> None:
    theirs = factories.tenant()
    their_asset = factories.asset(
        theirs, factories.site(theirs, factories.customer(theirs)), barcode_value="SHARED-1"
    )
    scene = factories.scene()
    technician_token = factories.assigned_technician_token(scene.world, scene.customer, scene.site)
    api = client.as_(technician_token)
    new_id = "01938a3c-7c00-7000-8000-00000000a001"

    scanned = api.post(
        "/v1/scans", json={"code": "SHARED-1", "site_id": str(scene.site.id), "id": new_id}
    )
    assert scanned.status_code == 200, scanned.get_json()
    body = scanned.get_json()
    assert body["provisional_created"] is True
    assert body["asset"]["id"] == new_id and body["asset"]["id"] != str(their_asset.id)
    assert body["asset"]["provisional"] is True and body["asset"]["site_id"] == str(scene.site.id)
    # Scanning again finds the provisional asset instead of making another.
    again = api.post("/v1/scans", json={"code": "SHARED-1", "site_id": str(scene.site.id)})
    assert again.get_json()["asset"]["id"] == new_id
    assert again.get_json()["provisional_created"] is False
    # The other tenant still sees only their own asset.
    theirs_api = client.as_(theirs.admin_token)
    found = theirs_api.post("/v1/scans", json={"code": "SHARED-1"}).get_json()
    assert found["asset"]["id"] == str(their_asset.id)


def test_customer_contacts_cannot_scan(client: ApiClient, factories: Factories) -> None:
    scene = factories.scene()
    refused = client.as_(scene.contact_token).post("/v1/scans", json={"code": "X-1"})
    assert_problem(refused, 403, "auth.forbidden")


def test_the_office_confirms_a_provisional_asset(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    site = factories.site(world, factories.customer(world))
    api = client.as_(world.admin_token)
    made = api.post("/v1/scans", json={"code": "P-1", "site_id": str(site.id)}).get_json()
    asset_id = made["asset"]["id"]

    to_settle = api.get("/v1/assets?provisional=true").get_json()["items"]
    assert [a["id"] for a in to_settle] == [asset_id]
    renamed = api.patch(f"/v1/assets/{asset_id}", json={"name": "2 号水泵"}, etag='"1"')
    assert renamed.status_code == 200
    stale = api.post(f"/v1/assets/{asset_id}/confirmation", headers={"If-Match": '"1"'})
    assert_problem(stale, 412, "concurrency.stale_version")
    confirmed = api.post(f"/v1/assets/{asset_id}/confirmation", headers={"If-Match": '"2"'})
    assert confirmed.status_code == 200, confirmed.get_json()
    assert confirmed.get_json()["provisional"] is False
    assert api.get("/v1/assets?provisional=true").get_json()["items"] == []
    again = api.post(f"/v1/assets/{asset_id}/confirmation", headers={"If-Match": '"3"'})
    assert_problem(again, 409, "asset.not_provisional")


def test_merging_moves_order_links_and_evidence_and_hands_over_the_code(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world, site = scene.world, scene.site
    real = factories.asset(world, site, name="1 号冷水机组")
    api = client.as_(scene.dispatcher_token)
    made = api.post(
        "/v1/scans", json={"code": "(01)09501101530003(21)SN9", "site_id": str(site.id)}
    ).get_json()
    provisional_id = uuid.UUID(made["asset"]["id"])
    both = factories.work_order(world, scene.customer, site, asset_ids=[provisional_id, real.id])
    only = factories.work_order(world, scene.customer, site, asset_ids=[provisional_id])
    with factories.uow() as uow:
        uow.session.add(
            Reading(
                tenant_id=world.tenant_id,
                work_order_id=only.id,
                author_kind="user",
                metric="pressure",
                value="3.5",
                unit="bar",
                taken_at=only.created_at,
                asset_id=provisional_id,
            )
        )
        uow.commit()

    merged = api.post(
        f"/v1/assets/{provisional_id}/merge",
        json={"into_asset_id": str(real.id)},
        headers={"If-Match": '"1"'},
    )
    assert merged.status_code == 200, merged.get_json()
    body = merged.get_json()
    assert body["id"] == str(real.id)
    assert body["barcode_value"] == "(01)09501101530003(21)SN9"
    assert body["gs1"]["serial"] == "SN9"
    assert_problem(api.get(f"/v1/assets/{provisional_id}"), 404, "asset.not_found")
    with factories.uow() as uow:
        links = uow.session.execute(
            select(WorkOrderAsset.work_order_id, WorkOrderAsset.asset_id)
        ).all()
        reading_asset = uow.session.scalars(select(Reading.asset_id)).one()
    assert sorted(links) == sorted([(both.id, real.id), (only.id, real.id)])
    assert reading_asset == real.id
    rescanned = api.post("/v1/scans", json={"code": "]C10109501101530003" + "21SN9"})
    assert rescanned.get_json()["asset"]["id"] == str(real.id)


def test_only_provisional_assets_merge_and_never_into_themselves(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    site = factories.site(world, factories.customer(world))
    real = factories.asset(world, site)
    api = client.as_(world.admin_token)
    made = api.post("/v1/scans", json={"code": "P-2", "site_id": str(site.id)}).get_json()

    into_self = api.post(
        f"/v1/assets/{made['asset']['id']}/merge",
        json={"into_asset_id": made["asset"]["id"]},
        headers={"If-Match": '"1"'},
    )
    assert_problem(into_self, 422, "asset.merge_into_itself")
    not_provisional = api.post(
        f"/v1/assets/{real.id}/merge",
        json={"into_asset_id": made["asset"]["id"]},
        headers={"If-Match": '"1"'},
    )
    assert_problem(not_provisional, 409, "asset.not_provisional")


def test_scanning_a_printed_label_finds_its_asset_and_another_tenants_label_makes_nothing(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    asset = factories.asset(scene.world, scene.site, barcode_value="4006381333931")
    theirs = factories.tenant()
    their_asset = factories.asset(theirs, factories.site(theirs, factories.customer(theirs)))
    technician_token = factories.assigned_technician_token(scene.world, scene.customer, scene.site)
    site = str(scene.site.id)

    for token in (scene.dispatcher_token, technician_token):
        # Any host: a label printed under an earlier public URL is still the asset's.
        for url in (
            f"https://fieldline.example.cn/r/{asset.label_token}",
            f"http://old.example.com/service/r/{asset.label_token}/",
        ):
            scanned = client.as_(token).post("/v1/scans", json={"code": url, "site_id": site})
            assert scanned.status_code == 200, scanned.get_json()
            body = scanned.get_json()
            assert body["asset"]["id"] == str(asset.id) and body["provisional_created"] is False
            assert body["asset"]["barcode_value"] == "4006381333931"

    before = count_rows(engine)
    foreign = f"https://fieldline.example.cn/r/{their_asset.label_token}"
    api = client.as_(technician_token)
    refused = api.post("/v1/scans", json={"code": foreign, "site_id": site, "symbology": "qr"})
    assert_problem(refused, 404, "asset.label_unknown")
    made_up = f"https://fieldline.example.cn/r/{'A' * 32}"
    assert_problem(api.post("/v1/scans", json={"code": made_up}), 404, "asset.label_unknown")
    assert count_rows(engine) == before  # no provisional asset holds a label's token


def test_a_replaced_label_no_longer_finds_its_asset(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    asset = factories.asset(world, factories.site(world, factories.customer(world)))
    api = client.as_(world.admin_token)
    old = f"https://fieldline.example.cn/r/{asset.label_token}"
    assert api.post("/v1/scans", json={"code": old}).status_code == 200
    new = api.post(f"/v1/assets/{asset.id}/label-replacement").get_json()["label_url"]

    assert_problem(api.post("/v1/scans", json={"code": old}), 404, "asset.label_unknown")
    assert api.post("/v1/scans", json={"code": new}).get_json()["asset"]["id"] == str(asset.id)
