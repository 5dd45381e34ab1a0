"""The single work order read, which has its own one-statement query and a faster
serialiser, must say exactly what the list says, and never more to the wrong caller."""

from __future__ import annotations

from typing import Any

import marshmallow

from api.workorders.queries import WorkOrderView
from api.workorders.schemas import WorkOrderSchema
from api.workorders.states import Status
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene


def _orders_in_every_shape(factories: Factories, scene: Scene) -> list[WorkOrderView]:
    """Bare; with a category and assets; assigned; cancelled; completed (timestamps,
    resolution, allowed actions that depend on the caller)."""
    world = scene.world
    leaf = factories.category_path(world)[-1]
    assets = [factories.asset(world, scene.site).id for _ in range(3)]
    full = {"category_id": leaf.id, "asset_ids": assets, "description": "制冷剂泄漏"}
    bare = factories.work_order(world, scene.customer, scene.site)
    detailed = factories.work_order(world, scene.customer, scene.site, **full)
    assigned = factories.transition(
        world,
        factories.work_order(world, scene.customer, scene.site, **full),
        "assign",
        assignee_id=scene.technician.id,
    )
    cancelled = factories.transition(
        world, factories.work_order(world, scene.customer, scene.site), "cancel", reason="重复"
    )
    completed = factories.advance(
        world,
        factories.work_order(world, scene.customer, scene.site, **full),
        Status.COMPLETED,
        scene.technician,
    )
    return [bare, detailed, assigned, cancelled, completed]


def test_a_single_read_shows_each_order_exactly_as_the_list_does(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    orders = _orders_in_every_shape(factories, scene)
    for token in (scene.dispatcher_token, scene.technician_token, scene.contact_token):
        api = client.as_(token)
        listed = {o["id"]: o for o in api.get("/v1/work-orders?limit=100").get_json()["items"]}
        assert listed, "every caller here sees some of the orders"
        for order in orders:
            response = api.get(f"/v1/work-orders/{order.id}")
            if str(order.id) not in listed:
                assert_problem(response, 404, "work_order.not_found")
                continue
            assert response.status_code == 200
            assert response.get_json() == listed[str(order.id)]
            etag = response.headers["ETag"]
            assert etag == f'"{listed[str(order.id)]["version"]}"'
            unchanged = api.get(f"/v1/work-orders/{order.id}", headers={"If-None-Match": etag})
            assert unchanged.status_code == 304 and not unchanged.data


def test_the_fast_dump_is_what_marshmallow_itself_dumps(factories: Factories) -> None:
    scene = factories.scene()
    orders = _orders_in_every_shape(factories, scene)
    schema = WorkOrderSchema()

    def reference(obj: Any, many: bool = False) -> Any:
        return marshmallow.Schema.dump(schema, obj, many=many)

    assert orders[1].category is not None and orders[1].asset_ids  # the nested parts run
    for order in orders:
        assert schema.dump(order) == reference(order)
    assert schema.dump(orders, many=True) == reference(orders, many=True)
    as_mapping = {"id": orders[0].id, "title": "映射", "asset_ids": []}
    assert schema.dump(as_mapping) == reference(as_mapping)


def test_each_caller_reads_with_their_own_scope_however_often_reads_alternate(
    client: ApiClient, factories: Factories
) -> None:
    """Statements are cached per scope shape; the values must still be each caller's."""
    scene = factories.scene()
    world = scene.world
    other_technician, _, other_token = factories.technician_user(world)
    other_customer = factories.customer(world)
    other_site = factories.site(world, other_customer)
    _, other_contact_token = factories.customer_login(world, other_customer)
    mine = factories.transition(
        world,
        factories.work_order(world, scene.customer, scene.site),
        "assign",
        assignee_id=scene.technician.id,
    )
    theirs = factories.transition(
        world,
        factories.work_order(world, other_customer, other_site),
        "assign",
        assignee_id=other_technician.id,
    )
    callers = [
        (scene.technician_token, mine),
        (other_token, theirs),
        (scene.contact_token, mine),
        (other_contact_token, theirs),
    ]
    for _ in range(3):
        for token, visible in callers:
            api = client.as_(token)
            for order in (mine, theirs):
                response = api.get(f"/v1/work-orders/{order.id}")
                if order is visible:
                    assert response.status_code == 200
                    assert response.get_json()["id"] == str(order.id)
                else:
                    assert_problem(response, 404, "work_order.not_found")
