"""The three-level category taxonomy through the HTTP API."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, select

from api.audit.models import AuditEvent
from api.auth.permissions import Role
from tests.conftest import count_rows
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories


def test_admin_builds_a_department_domain_symptom_path(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)

    def create(body: dict[str, object]) -> dict[str, object]:
        response = api.post("/v1/categories", json=body)
        assert response.status_code == 201, response.get_json()
        assert response.headers["ETag"] == '"1"'
        return response.get_json()

    hvac = create({"code": "hvac", "name": "暖通空调", "name_en": "HVAC"})
    chiller = create({"code": "chiller", "name": "冷水机组", "parent_id": hvac["id"]})
    symptom = create({"code": "no_cooling", "name": "不制冷", "parent_id": chiller["id"]})
    assert (hvac["level"], chiller["level"], symptom["level"]) == (1, 2, 3)
    assert hvac["parent_id"] is None and symptom["parent_id"] == chiller["id"]
    assert symptom["active"] is True and symptom["sort_order"] == 0

    read = api.get(f"/v1/categories/{symptom['id']}")
    assert read.get_json()["code"] == "no_cooling" and read.headers["ETag"] == '"1"'
    renamed = api.patch(
        f"/v1/categories/{symptom['id']}", json={"name_en": "No cooling"}, etag='"1"'
    )
    assert renamed.status_code == 200 and renamed.get_json()["version"] == 2
    with factories.uow() as uow:
        actions = uow.session.scalars(
            select(AuditEvent.action).where(AuditEvent.entity_id == uuid.UUID(symptom["id"]))
        ).all()
    assert sorted(actions) == ["create", "update"]


def test_a_fourth_level_is_refused_and_nothing_is_written(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    *_, leaf = factories.category_path(world)
    before = count_rows(engine)
    response = client.as_(world.admin_token).post(
        "/v1/categories", json={"code": "deeper", "name": "更深", "parent_id": str(leaf.id)}
    )
    body = assert_problem(response, 422, "category.too_deep")
    assert body["errors"][0]["field"] == "parent_id"
    assert count_rows(engine) == before


def test_codes_are_unique_in_a_tenant_but_not_across_tenants(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world, other = factories.tenant(), factories.tenant()
    factories.category_path(world)
    before = count_rows(engine)
    duplicate = client.as_(world.admin_token).post(
        "/v1/categories", json={"code": "chiller", "name": "重复"}
    )
    assert_problem(duplicate, 409, "category.code_taken")
    assert count_rows(engine) == before
    elsewhere = client.as_(other.admin_token).post(
        "/v1/categories", json={"code": "chiller", "name": "冷水机组"}
    )
    assert elsewhere.status_code == 201


def test_the_tree_nests_active_categories_in_display_order(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    hvac, chiller, no_cooling = factories.category_path(world)
    _, _, noisy = factories.category_path(world, ("hvac", "chiller", "noisy"))
    _, boiler, _ = factories.category_path(world, ("hvac", "boiler", "no_heat"))
    electrical, _, _ = factories.category_path(world, ("electrical", "lighting", "flicker"))
    api = client.as_(world.admin_token)
    # Display order is sort_order first, then code: put "noisy" before "no_cooling".
    api.patch(f"/v1/categories/{noisy.id}", json={"sort_order": -1}, etag='"1"')
    api.patch(f"/v1/categories/{electrical.id}", json={"sort_order": 10}, etag='"1"')
    # A retired symptom leaves the tree but stays readable by id.
    retired = factories.category_path(world, ("hvac", "boiler", "leak"))[-1]
    api.patch(f"/v1/categories/{retired.id}", json={"active": False}, etag='"1"')

    tree = api.get("/v1/categories/tree")
    assert tree.status_code == 200
    nodes = tree.get_json()

    def shape(items: list[dict[str, object]]) -> list[object]:
        return [(n["code"], shape(n["children"])) if n["children"] else n["code"] for n in items]

    assert shape(nodes) == [
        ("hvac", [("boiler", ["no_heat"]), ("chiller", ["noisy", "no_cooling"])]),
        ("electrical", [("lighting", ["flicker"])]),
    ]
    first = nodes[0]
    assert first["id"] == str(hvac.id) and first["name"] == hvac.name
    assert set(first) == {"id", "code", "name", "name_en", "level", "children"}
    assert first["children"][1]["id"] == str(chiller.id)
    assert first["children"][1]["children"][1]["id"] == str(no_cooling.id)
    assert api.get(f"/v1/categories/{retired.id}").get_json()["active"] is False
    assert boiler.level == 2


def test_the_flat_list_filters_and_pages_in_level_then_display_order(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    hvac, chiller, _ = factories.category_path(world)
    factories.category_path(world, ("hvac", "boiler", "no_heat"))
    factories.category_path(world, ("electrical", "lighting", "flicker"))
    api = client.as_(world.admin_token)

    def codes(query: str) -> list[str]:
        response = api.get(f"/v1/categories?{query}")
        assert response.status_code == 200, response.get_json()
        return [c["code"] for c in response.get_json()["items"]]

    assert codes("level=1") == ["electrical", "hvac"]
    assert codes(f"parent_id={hvac.id}") == ["boiler", "chiller"]
    assert codes("code=chiller") == ["chiller"]

    seen: list[str] = []
    cursor = None
    while True:
        page = api.get(
            "/v1/categories?limit=4" + (f"&cursor={cursor}" if cursor else "")
        ).get_json()
        seen += [c["code"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [
        "electrical", "hvac",
        "boiler", "chiller", "lighting",
        "flicker", "no_cooling", "no_heat",
    ]  # fmt: skip
    assert_problem(api.get("/v1/categories?cursor=bm9wZQ"), 400, "request.invalid_cursor")
    body = assert_problem(api.get("/v1/categories?level=4"), 422, "request.validation_failed")
    assert body["errors"][0] == {
        "field": "level",
        "code": "out_of_range",
        "message": body["errors"][0]["message"],
    }
    assert chiller.level == 2


def test_a_category_with_active_children_cannot_be_deactivated(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    hvac, chiller, no_cooling = factories.category_path(world)
    api = client.as_(world.admin_token)
    assert_problem(
        api.patch(f"/v1/categories/{hvac.id}", json={"active": False}, etag='"1"'),
        409,
        "category.has_active_children",
    )
    assert api.get(f"/v1/categories/{hvac.id}").get_json()["active"] is True
    # Leaf first, then upwards, works.
    for category in (no_cooling, chiller, hvac):
        response = api.patch(f"/v1/categories/{category.id}", json={"active": False}, etag='"1"')
        assert response.status_code == 200, response.get_json()
    assert api.get("/v1/categories/tree").get_json() == []
    # And a child cannot come back before its parent does.
    assert_problem(
        api.patch(f"/v1/categories/{chiller.id}", json={"active": True}, etag='"2"'),
        409,
        "category.parent_inactive",
    )
    assert_problem(
        api.post("/v1/categories", json={"code": "new", "name": "新", "parent_id": str(hvac.id)}),
        409,
        "category.parent_inactive",
    )


def test_code_parent_and_level_cannot_be_changed(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    hvac, chiller, _ = factories.category_path(world)
    response = client.as_(world.admin_token).patch(
        f"/v1/categories/{chiller.id}",
        json={"code": "x", "parent_id": None, "level": 1},
        etag='"1"',
    )
    body = assert_problem(response, 422, "request.validation_failed")
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("code", "unknown_field"),
        ("parent_id", "unknown_field"),
        ("level", "unknown_field"),
    }
    assert hvac.level == 1


def test_another_tenants_categories_are_not_found(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world, other = factories.tenant(), factories.tenant()
    _, foreign_parent, _ = factories.category_path(other)
    api = client.as_(world.admin_token)
    before = count_rows(engine)
    assert_problem(api.get(f"/v1/categories/{foreign_parent.id}"), 404, "category.not_found")
    assert_problem(
        api.patch(f"/v1/categories/{foreign_parent.id}", json={"name": "x"}, etag='"1"'),
        404,
        "category.not_found",
    )
    child = api.post(
        "/v1/categories", json={"code": "sneaky", "name": "x", "parent_id": str(foreign_parent.id)}
    )
    assert_problem(child, 404, "category.not_found")
    assert count_rows(engine) == before
    assert api.get("/v1/categories").get_json()["items"] == []
    assert api.get("/v1/categories/tree").get_json() == []


def test_every_role_reads_the_taxonomy_but_only_the_office_changes_it(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    hvac, _, _ = factories.category_path(world)
    contact = factories.contact(world, factories.customer(world))
    _, customer_token = factories.user(world, Role.CUSTOMER_CONTACT, contact_id=contact.id)
    _, dispatcher_token = factories.user(world, Role.DISPATCHER)
    customer_api = client.as_(customer_token)
    assert [n["code"] for n in customer_api.get("/v1/categories/tree").get_json()] == ["hvac"]
    assert customer_api.get(f"/v1/categories/{hvac.id}").status_code == 200
    assert_problem(
        customer_api.post("/v1/categories", json={"code": "x", "name": "x"}),
        403,
        "auth.forbidden",
    )
    assert_problem(
        customer_api.patch(f"/v1/categories/{hvac.id}", json={"name": "x"}, etag='"1"'),
        403,
        "auth.forbidden",
    )
    dispatcher = client.as_(dispatcher_token)
    assert dispatcher.post("/v1/categories", json={"code": "x", "name": "x"}).status_code == 201


def test_category_errors_are_titled_in_chinese_when_asked(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    *_, leaf = factories.category_path(world)
    api = client.as_(world.admin_token)
    api.language = "zh-CN"
    too_deep = api.post(
        "/v1/categories", json={"code": "d", "name": "d", "parent_id": str(leaf.id)}
    )
    assert assert_problem(too_deep, 422, "category.too_deep")["title"] == "分类最多三级"
    taken = api.post("/v1/categories", json={"code": "hvac", "name": "d"})
    assert assert_problem(taken, 409, "category.code_taken")["title"] == "该分类编码已被使用"
