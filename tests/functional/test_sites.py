"""Sites through the HTTP API: positions, tenancy, role scoping, delete refusals."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, select

from api.audit.models import AuditEvent
from api.auth.permissions import Role
from api.workorders import services as work_order_services
from tests.conftest import count_rows
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories

SHANGHAI = {"lat": 31.2304, "lon": 121.4737}


def _audit_actions(factories: Factories, entity_id: str) -> list[str]:
    with factories.uow() as uow:
        events = uow.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_id == uuid.UUID(entity_id))
            .order_by(AuditEvent.id)
        )
        return [event.action for event in events]


def test_dispatcher_creates_reads_updates_and_deletes_a_site_with_a_position(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    _, token = factories.user(world, Role.DISPATCHER)
    api = client.as_(token)

    created = api.post(
        "/v1/sites",
        json={
            "customer_id": str(customer.id),
            "name": "浦东仓库",
            "name_en": "Pudong warehouse",
            "address": "上海市浦东新区张江路 1 号",
            "position": SHANGHAI,
        },
    )
    assert created.status_code == 201, created.get_json()
    site = created.get_json()
    assert site["customer_id"] == str(customer.id)
    assert site["position"] == SHANGHAI
    assert site["timezone"] == "Asia/Shanghai" and site["active"] is True
    assert "lat" not in site and created.headers["ETag"] == '"1"'

    read = api.get(f"/v1/sites/{site['id']}")
    assert read.get_json()["name"] == "浦东仓库" and read.headers["ETag"] == '"1"'

    cleared = api.patch(f"/v1/sites/{site['id']}", json={"position": None}, etag='"1"')
    assert cleared.status_code == 200
    assert cleared.get_json()["position"] is None and cleared.headers["ETag"] == '"2"'

    assert api.delete(f"/v1/sites/{site['id']}", etag='"2"').status_code == 204
    assert_problem(api.get(f"/v1/sites/{site['id']}"), 404, "site.not_found")
    assert _audit_actions(factories, site["id"]) == ["create", "update", "delete"]


def test_list_filters_by_customer_text_and_activity(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    acme, other = factories.customer(world), factories.customer(world)
    plant = factories.site(world, acme, name="闵行工厂", address="上海市闵行区 100% 路")
    office = factories.site(world, acme, name="总部", city="北京", active=False)
    elsewhere = factories.site(world, other, name="闵行门店")
    api = client.as_(world.admin_token)

    def ids(query: str) -> list[str]:
        response = api.get(f"/v1/sites?{query}")
        assert response.status_code == 200, response.get_json()
        return [s["id"] for s in response.get_json()["items"]]

    assert ids(f"customer_id={acme.id}") == [str(plant.id), str(office.id)]
    assert ids("q=闵行") == [str(plant.id), str(elsewhere.id)]
    assert ids("q=北京") == [str(office.id)]
    assert ids("q=100%25") == [str(plant.id)]  # "%" is a character here, not a wildcard
    assert ids(f"active=false&customer_id={acme.id}") == [str(office.id)]
    page = api.get("/v1/sites?limit=2").get_json()
    assert len(page["items"]) == 2 and page["next_cursor"] is not None


def test_site_for_another_tenants_customer_is_not_found_and_writes_nothing(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world, other = factories.tenant(), factories.tenant()
    foreign_customer = factories.customer(other)
    before = count_rows(engine)
    response = client.as_(world.admin_token).post(
        "/v1/sites",
        json={"customer_id": str(foreign_customer.id), "name": "X", "address": "Y"},
    )
    assert_problem(response, 404, "customer.not_found")
    assert count_rows(engine) == before


def test_another_tenants_site_cannot_be_read_changed_or_deleted(
    client: ApiClient, factories: Factories
) -> None:
    world, other = factories.tenant(), factories.tenant()
    foreign = factories.site(other, factories.customer(other))
    api = client.as_(world.admin_token)
    path = f"/v1/sites/{foreign.id}"
    assert_problem(api.get(path), 404, "site.not_found")
    assert_problem(api.patch(path, json={"name": "mine"}, etag='"1"'), 404, "site.not_found")
    assert_problem(api.delete(path, etag='"1"'), 404, "site.not_found")
    assert_problem(api.get(f"/v1/sites/{uuid.uuid4()}"), 404, "site.not_found")
    assert client.as_(other.admin_token).get(path).get_json()["name"] == foreign.name


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        ({"lat": 90.5, "lon": 121.0}, {("position.lat", "out_of_range")}),
        ({"lat": 31.0, "lon": -180.01}, {("position.lon", "out_of_range")}),
        (
            {"lat": -91, "lon": 181},
            {("position.lat", "out_of_range"), ("position.lon", "out_of_range")},
        ),
        ({"lat": float("nan"), "lon": 121.0}, {("position.lat", "out_of_range")}),
        ({"lat": 31.0, "lon": float("inf")}, {("position.lon", "out_of_range")}),
        ({"lat": 31.0}, {("position.lon", "required")}),
        ({"lon": 121.0}, {("position.lat", "required")}),
        ({"lat": "north", "lon": 121.0}, {("position.lat", "invalid_type")}),
    ],
)
def test_bad_positions_are_rejected_field_by_field_and_nothing_is_written(
    client: ApiClient,
    factories: Factories,
    engine: Engine,
    position: dict[str, Any],
    expected: set[tuple[str, str]],
) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    site = factories.site(world, customer)
    api = client.as_(world.admin_token)
    before = count_rows(engine)

    created = api.post(
        "/v1/sites",
        json={"customer_id": str(customer.id), "name": "X", "address": "Y", "position": position},
    )
    body = assert_problem(created, 422, "request.validation_failed")
    assert {(e["field"], e["code"]) for e in body["errors"]} == expected

    patched = api.patch(f"/v1/sites/{site.id}", json={"position": position}, etag='"1"')
    assert_problem(patched, 422, "request.validation_failed")
    assert count_rows(engine) == before
    assert api.get(f"/v1/sites/{site.id}").get_json()["position"] == SHANGHAI


def test_missing_fields_unknown_fields_and_bad_time_zones_are_named(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    before = count_rows(engine)
    response = client.as_(world.admin_token).post(
        "/v1/sites", json={"name": "x" * 201, "timezone": "Mars/Olympus", "lat": 31.2}
    )
    body = assert_problem(response, 422, "request.validation_failed")
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("customer_id", "required"),
        ("address", "required"),
        ("name", "too_long"),
        ("timezone", "invalid_format"),
        ("lat", "unknown_field"),
    }
    assert count_rows(engine) == before


def test_update_without_if_match_is_428_and_stale_is_412(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    site = factories.site(world, factories.customer(world))
    api = client.as_(world.admin_token)
    path = f"/v1/sites/{site.id}"
    assert_problem(api.patch(path, json={"name": "A"}), 428, "concurrency.if_match_required")
    assert api.patch(path, json={"name": "A"}, etag='"1"').status_code == 200
    body = assert_problem(
        api.patch(path, json={"name": "B"}, etag='"1"'), 412, "concurrency.stale_version"
    )
    assert body["current_version"] == 2
    assert_problem(api.delete(path), 428, "concurrency.if_match_required")
    assert_problem(api.delete(path, etag='"1"'), 412, "concurrency.stale_version")
    assert api.get(path).get_json()["name"] == "A"


def test_site_with_an_asset_cannot_be_deleted(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    site = factories.site(world, factories.customer(world))
    factories.asset(world, site)
    before = count_rows(engine)
    response = client.as_(world.admin_token).delete(f"/v1/sites/{site.id}", etag='"1"')
    assert_problem(response, 409, "site.in_use")
    assert count_rows(engine) == before


def test_site_with_a_work_order_cannot_be_deleted(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    site = factories.site(world, customer)
    work_order_services.create_work_order(
        factories.uow(),
        world.admin_actor,
        {"title": "漏水", "customer_id": customer.id, "site_id": site.id},
    )
    api = client.as_(world.admin_token)
    assert_problem(api.delete(f"/v1/sites/{site.id}", etag='"1"'), 409, "site.in_use")
    assert api.get(f"/v1/sites/{site.id}").status_code == 200


def test_customer_contact_sees_only_their_customers_sites_and_cannot_write(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    mine, theirs = factories.customer(world), factories.customer(world)
    my_site, their_site = factories.site(world, mine), factories.site(world, theirs)
    _, token = factories.user(
        world, Role.CUSTOMER_CONTACT, contact_id=factories.contact(world, mine).id
    )
    api = client.as_(token)
    assert [s["id"] for s in api.get("/v1/sites").get_json()["items"]] == [str(my_site.id)]
    assert api.get(f"/v1/sites?customer_id={theirs.id}").get_json()["items"] == []
    assert api.get(f"/v1/sites/{my_site.id}").status_code == 200
    assert_problem(api.get(f"/v1/sites/{their_site.id}"), 404, "site.not_found")
    create = api.post("/v1/sites", json={"customer_id": str(mine.id), "name": "X", "address": "Y"})
    assert_problem(create, 403, "auth.forbidden")
    assert_problem(
        api.patch(f"/v1/sites/{my_site.id}", json={"name": "Z"}, etag='"1"'), 403, "auth.forbidden"
    )


def test_technician_sees_only_the_sites_of_their_assigned_work_orders(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    assigned, unassigned = factories.site(world, customer), factories.site(world, customer)
    api = client.as_(factories.assigned_technician_token(world, customer, assigned))
    assert [s["id"] for s in api.get("/v1/sites").get_json()["items"]] == [str(assigned.id)]
    assert_problem(api.get(f"/v1/sites/{unassigned.id}"), 404, "site.not_found")
    assert_problem(api.delete(f"/v1/sites/{assigned.id}", etag='"1"'), 403, "auth.forbidden")


def test_problem_titles_follow_accept_language(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    api.language = "zh-CN"
    missing = assert_problem(api.get(f"/v1/sites/{uuid.uuid4()}"), 404, "site.not_found")
    assert missing["title"] == "站点不存在"
    customer = factories.customer(world)
    invalid = api.post(
        "/v1/sites",
        json={
            "customer_id": str(customer.id),
            "name": "X",
            "address": "Y",
            "position": {"lat": 100, "lon": 0},
        },
    )
    body = assert_problem(invalid, 422, "request.validation_failed")
    assert body["title"] == "请求包含无效字段"
    assert body["errors"][0]["message"] == "值超出允许范围。"
