"""Creating, reading, editing and listing work orders through the HTTP API."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine, select

from api.audit.models import AuditEvent
from api.db import UnitOfWorkFactory
from tests.conftest import count_rows
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene


def _body(scene: Scene, **extra: Any) -> dict[str, Any]:
    return {
        "title": "冷机不制冷",
        "customer_id": str(scene.customer.id),
        "site_id": str(scene.site.id),
        **extra,
    }


def test_dispatcher_creates_a_numbered_order_with_assets_and_a_category_path(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    asset = factories.asset(world, scene.site)
    hvac, chiller, no_cooling = factories.category_path(world)
    api = client.as_(scene.dispatcher_token)

    created = api.post(
        "/v1/work-orders",
        json=_body(
            scene,
            asset_ids=[str(asset.id)],
            category_id=str(no_cooling.id),
            priority="urgent",
            requested_start="2026-12-01T09:00:00+08:00",
        ),
    )
    assert created.status_code == 201, created.get_json()
    order = created.get_json()
    assert created.headers["ETag"] == '"1"'
    assert order["number"] == "WO-000001"
    assert order["status"] == "new" and order["priority"] == "urgent"
    assert order["asset_ids"] == [str(asset.id)]
    assert order["requested_start"] == "2026-12-01T01:00:00.000000Z"
    assert order["category"]["id"] == str(no_cooling.id)
    assert [c["code"] for c in order["category"]["path"]] == [
        hvac.code,
        chiller.code,
        no_cooling.code,
    ]
    assert order["allowed_actions"] == ["assign", "cancel"]
    assert order["assignee_id"] is None and order["source"] == "api"

    read = api.get(f"/v1/work-orders/{order['id']}")
    assert read.get_json() == order and read.headers["ETag"] == '"1"'
    second = api.post("/v1/work-orders", json=_body(scene)).get_json()
    assert second["number"] == "WO-000002"
    # Numbers count per tenant.
    assert factories.work_order(factories.tenant()).number == "WO-000001"


def test_creation_starts_the_history(client: ApiClient, factories: Factories) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    history = client.as_(scene.dispatcher_token).get(f"/v1/work-orders/{order.id}/history")
    [row] = history.get_json()["items"]
    assert (row["action"], row["from_status"], row["to_status"]) == ("create", None, "new")
    assert row["actor_id"] == str(scene.world.admin.id)


def test_client_generated_id_is_kept_and_cannot_be_reused(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order_id = str(uuid.uuid4())
    api = client.as_(scene.dispatcher_token)
    first = api.post("/v1/work-orders", json=_body(scene, id=order_id))
    assert first.get_json()["id"] == order_id
    clash = api.post("/v1/work-orders", json=_body(scene, id=order_id))
    assert_problem(clash, 422, "request.validation_failed")


def test_a_retried_create_with_the_same_idempotency_key_makes_one_order(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    api = client.as_(scene.dispatcher_token)
    headers = {"Idempotency-Key": "create-wo-1"}
    first = api.post("/v1/work-orders", json=_body(scene), headers=headers)
    again = api.post("/v1/work-orders", json=_body(scene), headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["number"] == first.get_json()["number"] == "WO-000001"
    assert len(api.get("/v1/work-orders").get_json()["items"]) == 1


def test_the_category_must_be_a_third_level_leaf(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    _, chiller, _ = factories.category_path(scene.world)
    before = count_rows(engine)
    response = client.as_(scene.dispatcher_token).post(
        "/v1/work-orders", json=_body(scene, category_id=str(chiller.id))
    )
    body = assert_problem(response, 422, "request.validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("category_id", "not_leaf")]
    assert count_rows(engine) == before


def test_the_site_must_be_the_customers_and_the_assets_at_that_site(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    world = scene.world
    other_site = factories.site(world, factories.customer(world))
    second_site = factories.site(world, scene.customer)
    elsewhere = factories.asset(world, second_site)
    api = client.as_(scene.dispatcher_token)
    before = count_rows(engine)

    wrong_site = api.post("/v1/work-orders", json=_body(scene, site_id=str(other_site.id)))
    body = assert_problem(wrong_site, 422, "request.validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("site_id", "wrong_customer")]

    wrong_asset = api.post("/v1/work-orders", json=_body(scene, asset_ids=[str(elsewhere.id)]))
    body = assert_problem(wrong_asset, 422, "request.validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("asset_ids", "not_at_site")]
    assert count_rows(engine) == before


def test_another_tenants_customer_site_or_category_cannot_be_attached(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    other = factories.tenant()
    their_customer = factories.customer(other)
    their_site = factories.site(other, their_customer)
    their_asset = factories.asset(other, their_site)
    *_, their_leaf = factories.category_path(other)
    api = client.as_(scene.dispatcher_token)
    before = count_rows(engine)

    assert_problem(
        api.post("/v1/work-orders", json=_body(scene, customer_id=str(their_customer.id))),
        404,
        "customer.not_found",
    )
    for field, value, code in [
        ("site_id", str(their_site.id), "not_found"),
        ("asset_ids", [str(their_asset.id)], "not_found"),
        ("category_id", str(their_leaf.id), "not_found"),
    ]:
        response = api.post("/v1/work-orders", json=_body(scene, **{field: value}))
        body = assert_problem(response, 422, "request.validation_failed")
        assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, code)]
    assert count_rows(engine) == before


def test_invalid_fields_are_named(client: ApiClient, factories: Factories) -> None:
    scene = factories.scene()
    response = client.as_(scene.dispatcher_token).post(
        "/v1/work-orders",
        json=_body(
            scene,
            title="x" * 201,
            priority="whenever",
            status="closed",
            requested_start="2026-12-01 nine-ish",
        ),
    )
    body = assert_problem(response, 422, "request.validation_failed")
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("title", "too_long"),
        ("priority", "not_allowed"),
        ("status", "unknown_field"),
        ("requested_start", "invalid_format"),
    }


def test_a_window_may_not_end_before_it_starts(client: ApiClient, factories: Factories) -> None:
    scene = factories.scene()
    response = client.as_(scene.dispatcher_token).post(
        "/v1/work-orders",
        json=_body(
            scene,
            scheduled_start="2026-12-01T10:00:00Z",
            scheduled_end="2026-12-01T09:00:00Z",
        ),
    )
    body = assert_problem(response, 422, "request.validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("scheduled_end", "out_of_range")]


def test_customer_contact_creates_orders_for_their_own_customer_only(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    other_customer = factories.customer(world)
    other_site = factories.site(world, other_customer)
    api = client.as_(scene.contact_token)

    created = api.post("/v1/work-orders", json=_body(scene))
    assert created.status_code == 201
    assert created.get_json()["allowed_actions"] == ["cancel"]
    assert created.get_json()["priority"] == "medium"
    foreign = _body(scene, customer_id=str(other_customer.id), site_id=str(other_site.id))
    assert_problem(api.post("/v1/work-orders", json=foreign), 404, "customer.not_found")
    scheduled = api.post(
        "/v1/work-orders", json=_body(scene, scheduled_start="2026-12-01T09:00:00Z")
    )
    body = assert_problem(scheduled, 422, "request.validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("scheduled_start", "not_allowed")]


def test_customer_contacts_may_not_set_the_priority(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    """Every customer would choose "urgent": the dispatcher triages."""
    scene = factories.scene()
    api = client.as_(scene.contact_token)
    before = count_rows(engine)
    for priority in ("urgent", "low", "medium"):
        refused = api.post("/v1/work-orders", json=_body(scene, priority=priority))
        body = assert_problem(refused, 422, "request.validation_failed")
        assert [(e["field"], e["code"]) for e in body["errors"]] == [("priority", "not_allowed")]
    assert count_rows(engine) == before
    order = api.post("/v1/work-orders", json=_body(scene)).get_json()
    raised = api.patch(f"/v1/work-orders/{order['id']}", json={"priority": "urgent"}, etag='"1"')
    assert_problem(raised, 403, "auth.forbidden")
    dispatcher = client.as_(scene.dispatcher_token)
    assert dispatcher.get(f"/v1/work-orders/{order['id']}").get_json()["priority"] == "medium"
    triaged = dispatcher.post("/v1/work-orders", json=_body(scene, priority="urgent"))
    assert triaged.status_code == 201 and triaged.get_json()["priority"] == "urgent"


def test_technicians_may_not_create_or_edit_orders(client: ApiClient, factories: Factories) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    api = client.as_(scene.technician_token)
    assert_problem(api.post("/v1/work-orders", json=_body(scene)), 403, "auth.forbidden")
    assert_problem(
        api.patch(f"/v1/work-orders/{order.id}", json={"title": "x"}, etag='"2"'),
        403,
        "auth.forbidden",
    )


def test_update_needs_if_match_and_refuses_a_stale_version(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    api = client.as_(scene.dispatcher_token)
    url = f"/v1/work-orders/{order.id}"
    assert_problem(api.patch(url, json={"title": "X"}), 428, "concurrency.if_match_required")
    updated = api.patch(url, json={"title": "X", "priority": "low"}, etag='"1"')
    assert updated.status_code == 200
    assert updated.get_json()["priority"] == "low" and updated.headers["ETag"] == '"2"'
    stale = api.patch(url, json={"title": "Y"}, etag='"1"')
    assert assert_problem(stale, 412, "concurrency.stale_version")["current_version"] == 2
    assert api.get(url).get_json()["title"] == "X"


def test_status_and_assignee_cannot_be_patched(client: ApiClient, factories: Factories) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    response = client.as_(scene.dispatcher_token).patch(
        f"/v1/work-orders/{order.id}",
        json={"status": "closed", "assignee_id": str(scene.technician.id)},
        etag='"1"',
    )
    body = assert_problem(response, 422, "request.validation_failed")
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("status", "unknown_field"),
        ("assignee_id", "unknown_field"),
    }


def test_replacing_the_assets_is_a_new_version(client: ApiClient, factories: Factories) -> None:
    scene = factories.scene()
    first, second = (
        factories.asset(scene.world, scene.site),
        factories.asset(scene.world, scene.site),
    )
    order = factories.work_order(scene.world, scene.customer, scene.site, asset_ids=[first.id])
    api = client.as_(scene.dispatcher_token)
    updated = api.patch(
        f"/v1/work-orders/{order.id}", json={"asset_ids": [str(second.id)]}, etag='"1"'
    )
    assert updated.status_code == 200
    assert updated.get_json()["asset_ids"] == [str(second.id)]
    assert updated.headers["ETag"] == '"2"'


def test_list_is_newest_first_and_pages_through_every_order_once(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    numbers = [
        factories.work_order(scene.world, scene.customer, scene.site).number for _ in range(5)
    ]
    api = client.as_(scene.dispatcher_token)
    seen: list[str] = []
    cursor = None
    while True:
        url = "/v1/work-orders?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(url).get_json()
        seen += [o["number"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(numbers))


def test_list_filters_combine(client: ApiClient, factories: Factories) -> None:
    scene = factories.scene()
    world = scene.world
    *_, leaf = factories.category_path(world, ("elec", "lighting", "flicker"))
    hvac, _, no_cooling = factories.category_path(world)
    other_site = factories.site(world, scene.customer)
    urgent = factories.work_order(
        world,
        scene.customer,
        scene.site,
        priority="urgent",
        category_id=no_cooling.id,
        title="冷库温度报警",
    )
    lighting = factories.work_order(world, scene.customer, other_site, category_id=leaf.id)
    assigned = factories.work_order(world, scene.customer, scene.site)
    assigned = factories.transition(world, assigned, "assign", assignee_id=scene.technician.id)
    api = client.as_(scene.dispatcher_token)

    def ids(query: str) -> set[str]:
        response = api.get(f"/v1/work-orders?{query}")
        assert response.status_code == 200, response.get_json()
        return {o["id"] for o in response.get_json()["items"]}

    assert ids("status=assigned,accepted") == {str(assigned.id)}
    assert ids("status=new&priority=urgent,high") == {str(urgent.id)}
    assert ids(f"assignee_id={scene.technician.id}") == {str(assigned.id)}
    assert ids(f"site_id={other_site.id}") == {str(lighting.id)}
    assert ids(f"category_id={hvac.id}") == {str(urgent.id)}
    assert ids(f"category_id={leaf.id}") == {str(lighting.id)}
    assert ids("q=温度") == {str(urgent.id)}
    assert ids(f"q={lighting.number}") == {str(lighting.id)}
    assert ids(f"customer_id={factories.customer(world).id}") == set()
    since = assigned.updated_at.isoformat().replace("+00:00", "Z")
    assert ids(f"updated_since={since}") == {str(assigned.id)}
    assert_problem(api.get("/v1/work-orders?status=lost"), 422, "request.validation_failed")


def test_search_text_is_literal_not_a_wildcard(client: ApiClient, factories: Factories) -> None:
    scene = factories.scene()
    literal = factories.work_order(scene.world, scene.customer, scene.site, title="A_1 负载 100%")
    factories.work_order(scene.world, scene.customer, scene.site, title="AB1 负载 1000")
    api = client.as_(scene.dispatcher_token)
    for q in ("A_1", "100%"):
        items = api.get("/v1/work-orders", query_string={"q": q}).get_json()["items"]
        assert [o["id"] for o in items] == [str(literal.id)], q


def test_technician_sees_only_their_assigned_orders(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    mine = factories.transition(
        world,
        factories.work_order(world, scene.customer, scene.site),
        "assign",
        assignee_id=scene.technician.id,
    )
    unassigned = factories.work_order(world, scene.customer, scene.site)
    api = client.as_(scene.technician_token)
    listed = api.get("/v1/work-orders").get_json()["items"]
    assert [o["id"] for o in listed] == [str(mine.id)]
    assert listed[0]["allowed_actions"] == ["accept", "decline"]
    assert_problem(api.get(f"/v1/work-orders/{unassigned.id}"), 404, "work_order.not_found")


def test_customer_contact_sees_only_their_customers_orders(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    ours = factories.work_order(world, scene.customer, scene.site)
    theirs = factories.work_order(world)
    other_tenant = factories.work_order(factories.tenant())
    api = client.as_(scene.contact_token)
    assert [o["id"] for o in api.get("/v1/work-orders").get_json()["items"]] == [str(ours.id)]
    assert_problem(api.get(f"/v1/work-orders/{theirs.id}"), 404, "work_order.not_found")
    assert_problem(api.get(f"/v1/work-orders/{other_tenant.id}"), 404, "work_order.not_found")
    assert_problem(
        api.get(f"/v1/work-orders/{other_tenant.id}/history"), 404, "work_order.not_found"
    )


def test_create_update_and_transition_are_audited(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    api = client.as_(scene.dispatcher_token)
    order = api.post("/v1/work-orders", json=_body(scene)).get_json()
    api.patch(f"/v1/work-orders/{order['id']}", json={"priority": "high"}, etag='"1"')
    api.post(
        f"/v1/work-orders/{order['id']}/transitions",
        json={"action": "assign", "assignee_id": str(scene.technician.id)},
    )
    with uow_factory() as uow:
        events = list(
            uow.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity_id == uuid.UUID(order["id"]))
                .order_by(AuditEvent.id)
            )
        )
    assert [e.action for e in events] == ["create", "update", "transition"]
    create, update, transition = events
    assert create.changes["number"] == {"after": "WO-000001"}
    assert update.changes == {"priority": {"before": "medium", "after": "high"}}
    assert transition.changes["status"] == {"before": "new", "after": "assigned"}
    assert transition.changes["assignee_id"]["after"] == str(scene.technician.id)
    assert {e.actor_id for e in events} == {scene.dispatcher_id}
