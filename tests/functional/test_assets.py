"""Assets through the HTTP API: barcodes and scanning, moves, tenancy and role scoping."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from urllib.parse import quote

from sqlalchemy import Engine, select

from api.audit.models import AuditEvent
from api.auth.permissions import Role
from api.workorders import services as work_order_services
from tests.conftest import count_rows
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories


def test_dispatcher_creates_an_asset_that_belongs_to_its_sites_customer(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    site = factories.site(world, customer)
    _, token = factories.user(world, Role.DISPATCHER)
    api = client.as_(token)

    created = api.post(
        "/v1/assets",
        json={
            "site_id": str(site.id),
            "name": "1 号冷水机组",
            "name_en": "Chiller 1",
            "manufacturer": "Carrier",
            "model": "30XW",
            "serial_number": "CAR-2024-0001",
            "barcode_value": "FL-000001",
            "barcode_symbology": "qr",
            "installed_on": "2024-03-01",
            "warranty_ends_on": "2027-02-28",
        },
    )
    assert created.status_code == 201, created.get_json()
    asset = created.get_json()
    assert asset["customer_id"] == str(customer.id) and asset["site_id"] == str(site.id)
    assert asset["barcode_symbology"] == "qr" and asset["warranty_ends_on"] == "2027-02-28"
    assert created.headers["ETag"] == '"1"'

    updated = api.patch(f"/v1/assets/{asset['id']}", json={"notes": "压缩机已更换"}, etag='"1"')
    assert updated.status_code == 200 and updated.get_json()["version"] == 2
    assert api.delete(f"/v1/assets/{asset['id']}", etag='"2"').status_code == 204
    assert_problem(api.get(f"/v1/assets/{asset['id']}"), 404, "asset.not_found")
    with factories.uow() as uow:
        actions = uow.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity_id == uuid.UUID(asset["id"]))
            .order_by(AuditEvent.id)
        ).all()
    assert actions == ["create", "update", "delete"]


def test_scanning_a_barcode_finds_the_asset(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    site = factories.site(world, factories.customer(world))
    plain = factories.asset(world, site, barcode_value="6901234567892", barcode_symbology="ean_13")
    url_label = factories.asset(world, site, barcode_value="https://fieldline.dev/a/Xy 9?k=1")
    factories.asset(world, site, barcode_value="6901234567")
    api = client.as_(world.admin_token)

    found = api.get("/v1/assets/by-barcode/6901234567892")
    assert found.status_code == 200 and found.get_json()["id"] == str(plain.id)
    assert found.headers["ETag"] == '"1"'
    by_url = api.get("/v1/assets/by-barcode/" + quote("https://fieldline.dev/a/Xy 9?k=1", safe=""))
    assert by_url.status_code == 200, by_url.get_json()
    assert by_url.get_json()["id"] == str(url_label.id)
    listed = api.get("/v1/assets?barcode=6901234567892").get_json()["items"]
    assert [a["id"] for a in listed] == [str(plain.id)]  # exact, never a prefix match
    assert_problem(api.get("/v1/assets/by-barcode/690123456789"), 404, "asset.not_found")


def test_a_barcode_is_unique_in_a_tenant_but_not_across_tenants(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world, other = factories.tenant(), factories.tenant()
    site = factories.site(world, factories.customer(world))
    first = factories.asset(world, site, barcode_value="FL-42")
    second = factories.asset(world, site)
    api = client.as_(world.admin_token)
    before = count_rows(engine)

    duplicate = api.post(
        "/v1/assets", json={"site_id": str(site.id), "name": "X", "barcode_value": "FL-42"}
    )
    assert_problem(duplicate, 409, "asset.barcode_taken")
    relabel = api.patch(f"/v1/assets/{second.id}", json={"barcode_value": "FL-42"}, etag='"1"')
    assert_problem(relabel, 409, "asset.barcode_taken")
    assert count_rows(engine) == before
    # Re-sending an asset's own barcode is no conflict.
    same = api.patch(f"/v1/assets/{first.id}", json={"barcode_value": "FL-42"}, etag='"1"')
    assert same.status_code == 200

    other_site = factories.site(other, factories.customer(other))
    elsewhere = client.as_(other.admin_token).post(
        "/v1/assets", json={"site_id": str(other_site.id), "name": "Y", "barcode_value": "FL-42"}
    )
    assert elsewhere.status_code == 201
    # Each tenant's scan finds its own asset.
    assert api.get("/v1/assets/by-barcode/FL-42").get_json()["id"] == str(first.id)


def test_a_symbology_needs_a_barcode_value(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    site = factories.site(world, factories.customer(world))
    labelled = factories.asset(world, site, barcode_value="FL-7", barcode_symbology="code_128")
    api = client.as_(world.admin_token)
    before = count_rows(engine)

    created = api.post(
        "/v1/assets", json={"site_id": str(site.id), "name": "X", "barcode_symbology": "qr"}
    )
    body = assert_problem(created, 422, "request.validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("barcode_value", "required")]
    cleared = api.patch(f"/v1/assets/{labelled.id}", json={"barcode_value": None}, etag='"1"')
    assert_problem(cleared, 422, "request.validation_failed")
    bad = api.post(
        "/v1/assets",
        json={
            "site_id": str(site.id),
            "name": "X",
            "barcode_value": "",
            "barcode_symbology": "aztec",
        },
    )
    body = assert_problem(bad, 422, "request.validation_failed")
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("barcode_value", "too_short"),
        ("barcode_symbology", "not_allowed"),
    }
    assert count_rows(engine) == before
    both_cleared = api.patch(
        f"/v1/assets/{labelled.id}",
        json={"barcode_value": None, "barcode_symbology": None},
        etag='"1"',
    )
    assert both_cleared.status_code == 200


def test_moving_an_asset_to_another_customers_site_moves_its_customer(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    old_customer, new_customer = factories.customer(world), factories.customer(world)
    asset = factories.asset(world, factories.site(world, old_customer))
    new_site = factories.site(world, new_customer)
    api = client.as_(world.admin_token)
    moved = api.patch(f"/v1/assets/{asset.id}", json={"site_id": str(new_site.id)}, etag='"1"')
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["site_id"] == str(new_site.id)
    assert moved.get_json()["customer_id"] == str(new_customer.id)
    listed = api.get(f"/v1/assets?customer_id={new_customer.id}").get_json()["items"]
    assert [a["id"] for a in listed] == [str(asset.id)]


def test_another_tenants_site_and_asset_are_not_found(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world, other = factories.tenant(), factories.tenant()
    mine = factories.asset(world, factories.site(world, factories.customer(world)))
    foreign_site = factories.site(other, factories.customer(other))
    foreign = factories.asset(other, foreign_site, barcode_value="THEIRS-1")
    api = client.as_(world.admin_token)
    before = count_rows(engine)

    create = api.post("/v1/assets", json={"site_id": str(foreign_site.id), "name": "X"})
    assert_problem(create, 404, "site.not_found")
    move = api.patch(f"/v1/assets/{mine.id}", json={"site_id": str(foreign_site.id)}, etag='"1"')
    assert_problem(move, 404, "site.not_found")
    assert_problem(api.get(f"/v1/assets/{foreign.id}"), 404, "asset.not_found")
    assert_problem(
        api.patch(f"/v1/assets/{foreign.id}", json={"name": "Z"}, etag='"1"'),
        404,
        "asset.not_found",
    )
    assert_problem(api.delete(f"/v1/assets/{foreign.id}", etag='"1"'), 404, "asset.not_found")
    assert_problem(api.get("/v1/assets/by-barcode/THEIRS-1"), 404, "asset.not_found")
    assert api.get(f"/v1/assets?site_id={foreign_site.id}").get_json()["items"] == []
    assert count_rows(engine) == before


def test_list_filters_by_place_identifiers_text_warranty_and_activity(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    roof, basement = factories.site(world, customer), factories.site(world, customer)
    today = date.today()
    covered = factories.asset(
        world,
        roof,
        name="屋顶风机",
        serial_number="FAN-1",
        warranty_ends_on=today + timedelta(days=400),
    )
    lapsed = factories.asset(
        world, basement, name="地下室水泵", warranty_ends_on=today - timedelta(days=400)
    )
    retired = factories.asset(world, basement, name="旧水泵", active=False)
    api = client.as_(world.admin_token)

    def ids(query: str) -> list[str]:
        response = api.get(f"/v1/assets?{query}")
        assert response.status_code == 200, response.get_json()
        return [a["id"] for a in response.get_json()["items"]]

    assert ids(f"site_id={basement.id}") == [str(lapsed.id), str(retired.id)]
    assert ids("serial_number=FAN-1") == [str(covered.id)]
    assert ids("q=水泵") == [str(lapsed.id), str(retired.id)]
    assert ids("warranty=active") == [str(covered.id)]
    assert ids("warranty=expired") == [str(lapsed.id)]
    assert ids("active=false") == [str(retired.id)]
    body = assert_problem(api.get("/v1/assets?warranty=soon"), 422, "request.validation_failed")
    assert body["errors"][0]["field"] == "warranty"


def test_an_asset_on_a_work_order_cannot_be_deleted(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    site = factories.site(world, customer)
    asset = factories.asset(world, site)
    work_order_services.create_work_order(
        factories.uow(),
        world.admin_actor,
        {"title": "报修", "customer_id": customer.id, "site_id": site.id, "asset_ids": [asset.id]},
    )
    before = count_rows(engine)
    api = client.as_(world.admin_token)
    assert_problem(api.delete(f"/v1/assets/{asset.id}", etag='"1"'), 409, "asset.in_use")
    assert count_rows(engine) == before
    assert_problem(api.delete(f"/v1/assets/{asset.id}"), 428, "concurrency.if_match_required")


def test_customer_contact_sees_and_scans_only_their_customers_assets(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    mine, theirs = factories.customer(world), factories.customer(world)
    my_asset = factories.asset(world, factories.site(world, mine), barcode_value="MINE")
    their_asset = factories.asset(world, factories.site(world, theirs), barcode_value="THEIRS")
    _, token = factories.user(
        world, Role.CUSTOMER_CONTACT, contact_id=factories.contact(world, mine).id
    )
    api = client.as_(token)
    assert [a["id"] for a in api.get("/v1/assets").get_json()["items"]] == [str(my_asset.id)]
    assert api.get("/v1/assets/by-barcode/MINE").status_code == 200
    assert_problem(api.get("/v1/assets/by-barcode/THEIRS"), 404, "asset.not_found")
    assert_problem(api.get(f"/v1/assets/{their_asset.id}"), 404, "asset.not_found")
    assert api.get("/v1/assets?barcode=THEIRS").get_json()["items"] == []
    create = api.post("/v1/assets", json={"site_id": str(my_asset.site_id), "name": "X"})
    assert_problem(create, 403, "auth.forbidden")


def test_technician_sees_the_assets_at_their_assigned_sites_only(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    assigned, elsewhere = factories.site(world, customer), factories.site(world, customer)
    here = factories.asset(world, assigned)
    there = factories.asset(world, elsewhere, barcode_value="THERE")
    api = client.as_(factories.assigned_technician_token(world, customer, assigned))
    assert [a["id"] for a in api.get("/v1/assets").get_json()["items"]] == [str(here.id)]
    assert_problem(api.get(f"/v1/assets/{there.id}"), 404, "asset.not_found")
    assert_problem(api.get("/v1/assets/by-barcode/THERE"), 404, "asset.not_found")
    update = api.patch(f"/v1/assets/{here.id}", json={"name": "X"}, etag='"1"')
    assert_problem(update, 403, "auth.forbidden")


def test_a_create_replayed_with_the_same_idempotency_key_makes_one_asset(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    site = factories.site(world, factories.customer(world))
    api = client.as_(world.admin_token)
    body = {"site_id": str(site.id), "name": "扫码新建", "barcode_value": "NEW-1"}
    headers = {"Idempotency-Key": "scan-7f3a"}
    first = api.post("/v1/assets", json=body, headers=headers)
    again = api.post("/v1/assets", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert len(api.get(f"/v1/assets?site_id={site.id}").get_json()["items"]) == 1


def test_barcode_conflict_is_titled_in_chinese_when_asked(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    site = factories.site(world, factories.customer(world))
    factories.asset(world, site, barcode_value="DUP")
    response = client.as_(world.admin_token).post(
        "/v1/assets",
        json={"site_id": str(site.id), "name": "X", "barcode_value": "DUP"},
        headers={"Accept-Language": "zh-CN"},
    )
    body = assert_problem(response, 409, "asset.barcode_taken")
    assert body["title"] == "该条码已绑定到其他设备"
    assert response.headers["Content-Language"] == "zh-CN"
