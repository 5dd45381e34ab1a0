"""Repeat-issue detection: one asset, one problem, too many orders in a few days.

Detection happens as the order is created; telling the office and opening the
preventive order are the worker's (an ``asset.repeat_issue`` outbox message).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from api.auth.permissions import Role
from api.db import utcnow
from api.notifications.models import Notification
from api.outbox.registry import HANDLERS
from api.outbox.worker import run_once
from api.workorders.models import WorkOrder, WorkOrderAsset
from api.workorders.states import Status
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.push import Device, new_id


def _work(factories: Factories) -> None:
    while run_once(factories.uow, HANDLERS):
        pass


def _flags(factories: Factories) -> list[Notification]:
    _work(factories)
    with factories.uow() as uow:
        return list(
            uow.session.scalars(
                select(Notification).where(Notification.kind == "asset.repeat_issue")
            )
        )


def _preventive(factories: Factories, asset_id: object) -> list[WorkOrder]:
    _work(factories)
    with factories.uow() as uow:
        return list(
            uow.session.scalars(
                select(WorkOrder)
                .join(WorkOrderAsset, WorkOrderAsset.work_order_id == WorkOrder.id)
                .where(WorkOrderAsset.asset_id == asset_id, WorkOrder.source == "preventive")
            )
        )


def test_the_third_order_of_a_category_in_three_days_flags_the_asset_to_the_office(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world, site = scene.world, scene.site
    asset = factories.asset(world, site)
    other_asset = factories.asset(world, site)
    leak, noise = (
        factories.category_path(world)[-1],
        factories.category_path(world, ("hvac", "chiller", "noise"))[-1],
    )
    order = {"customer": scene.customer, "site": site}

    factories.work_order(world, **order, asset_ids=[asset.id], category_id=leak.id)
    factories.work_order(world, **order, asset_ids=[asset.id], category_id=noise.id)
    factories.work_order(world, **order, asset_ids=[other_asset.id], category_id=leak.id)
    factories.work_order(world, **order, asset_ids=[asset.id], category_id=leak.id)
    assert _flags(factories) == []  # two of a kind on this asset, so far
    third = factories.work_order(world, **order, asset_ids=[asset.id], category_id=leak.id)

    flags = _flags(factories)
    assert {f.user_id for f in flags} == {world.admin.id, scene.dispatcher_id}
    assert flags[0].data["asset_id"] == str(asset.id)
    assert str(third.id) in flags[0].data["work_order_ids"]
    assert len(flags[0].data["work_order_ids"]) == 3
    assert _preventive(factories, asset.id) == []  # not turned on by default
    dispatcher = client.as_(scene.dispatcher_token).get("/v1/notifications").get_json()
    assert [n["kind"] for n in dispatcher["items"]] == ["asset.repeat_issue"]


def test_orders_outside_the_window_do_not_count(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    site = factories.site(world, customer)
    asset = factories.asset(world, site)
    leaf = factories.category_path(world)[-1]
    old = [factories.work_order(world, site=site, customer=customer, asset_ids=[asset.id],
                                category_id=leaf.id) for _ in range(2)]  # fmt: skip
    with factories.uow() as uow:
        uow.session.execute(
            update(WorkOrder)
            .where(WorkOrder.id.in_([o.id for o in old]))
            .values(created_at=utcnow() - timedelta(days=4))
        )
        uow.commit()
    factories.work_order(
        world, site=site, customer=customer, asset_ids=[asset.id], category_id=leaf.id
    )
    assert _flags(factories) == []


def test_a_tenant_that_turns_it_on_gets_one_preventive_order_per_asset(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    site = factories.site(world, customer)
    asset = factories.asset(world, site)
    leaf = factories.category_path(world)[-1]
    admin = client.as_(world.admin_token)
    _, dispatcher_token = factories.user(world, Role.DISPATCHER)

    settings = {"repeat_window_days": 7, "repeat_threshold": 2, "repeat_opens_preventive": True}
    assert (
        admin.request("PUT", "/v1/tenant/repeat-issue-settings", json=settings).status_code == 200
    )
    assert admin.get("/v1/tenant/repeat-issue-settings").get_json() == settings | {
        "repeat_preventive_category_id": None
    }
    refused = client.as_(dispatcher_token).request(
        "PUT", "/v1/tenant/repeat-issue-settings", json=settings
    )
    assert_problem(refused, 403, "auth.forbidden")
    bad = admin.request(
        "PUT", "/v1/tenant/repeat-issue-settings", json=settings | {"repeat_threshold": 1}
    )
    assert_problem(bad, 422, "request.validation_failed")

    for _ in range(3):
        factories.work_order(world, customer, site, asset_ids=[asset.id], category_id=leaf.id)
        _work(factories)

    preventive = _preventive(factories, asset.id)
    assert len(preventive) == 1  # the third order found the first preventive one still open
    assert preventive[0].category_id == leaf.id and preventive[0].priority.value == "high"
    assert (preventive[0].customer_id, preventive[0].site_id) == (customer.id, site.id)
    flags = _flags(factories)
    assert {f.data["preventive_work_order_id"] for f in flags} == {str(preventive[0].id), None}


def test_orders_created_offline_count_too(client: ApiClient, factories: Factories) -> None:
    scene = factories.scene()
    world, site = scene.world, scene.site
    asset = factories.asset(world, site)
    leaf = factories.category_path(world)[-1]
    for _ in range(2):
        order = factories.work_order(
            world, scene.customer, site, asset_ids=[asset.id], category_id=leaf.id
        )
    factories.advance(world, order, Status.ASSIGNED, scene.technician)  # the site is theirs
    device = Device(client.as_(scene.technician_token))
    args = {
        "id": str(new_id()),
        "title": "又漏水了",
        "customer_id": str(scene.customer.id),
        "site_id": str(site.id),
        "category_id": str(leaf.id),
        "asset_ids": [str(asset.id)],
    }
    [receipt] = device.push_ok([device.raw("create_work_order", args)]).receipts  # fmt: skip
    assert receipt.status.value == "applied", (receipt.code, receipt.field, receipt.detail)
    flags = _flags(factories)
    assert flags and flags[0].data["asset_id"] == str(asset.id)
    assert args["id"] in flags[0].data["work_order_ids"]


def _turn_on(client: ApiClient, world: Any, **extra: Any) -> None:
    settings = {"repeat_window_days": 3, "repeat_threshold": 3, "repeat_opens_preventive": True}
    response = client.as_(world.admin_token).request(
        "PUT", "/v1/tenant/repeat-issue-settings", json=settings | extra
    )
    assert response.status_code == 200, response.get_json()


def test_the_preventive_order_has_the_configured_category_and_links_its_repeats(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    site = factories.site(world, customer)
    asset = factories.asset(world, site)
    leak = factories.category_path(world)[-1]
    upkeep = factories.category_path(world, ("maintenance", "planned", "overhaul"))[-1]
    _turn_on(client, world, repeat_preventive_category_id=str(upkeep.id))
    repeats = [
        factories.work_order(world, customer, site, asset_ids=[asset.id], category_id=leak.id)
        for _ in range(3)
    ]
    [preventive] = _preventive(factories, asset.id)
    assert preventive.category_id == upkeep.id
    office = client.as_(world.admin_token)
    links = office.get(f"/v1/work-orders/{preventive.id}/links").get_json()["items"]
    assert {(link["kind"], link["direction"]) for link in links} == {("repeat_of", "outgoing")}
    assert {link["other"]["id"] for link in links} == {str(r.id) for r in repeats}
    back = office.get(f"/v1/work-orders/{repeats[0].id}/links").get_json()["items"]
    assert [(b["kind"], b["direction"], b["other"]["id"]) for b in back] == [
        ("repeat_of", "incoming", str(preventive.id))
    ]


def test_one_preventive_order_per_window_even_after_it_is_finished(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world, site = scene.world, scene.site
    asset = factories.asset(world, site)
    leak = factories.category_path(world)[-1]
    _turn_on(client, world)
    for _ in range(3):
        factories.work_order(world, scene.customer, site, asset_ids=[asset.id], category_id=leak.id)
    [first] = _preventive(factories, asset.id)
    factories.transition(world, first.id, "cancel", reason="已安排年检")
    for _ in range(2):  # a fourth and fifth repeat, still within the window
        factories.work_order(world, scene.customer, site, asset_ids=[asset.id], category_id=leak.id)
    assert len(_preventive(factories, asset.id)) == 1
    with factories.uow() as uow:  # the window moves on: the first preventive order is old
        uow.session.execute(
            update(WorkOrder)
            .where(WorkOrder.tenant_id == world.tenant_id)
            .values(created_at=utcnow() - timedelta(days=4))
        )
        uow.commit()
    for _ in range(3):
        factories.work_order(world, scene.customer, site, asset_ids=[asset.id], category_id=leak.id)
    assert len(_preventive(factories, asset.id)) == 2


def test_orders_without_a_category_count_by_their_words(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    site = factories.site(world, customer)
    asset = factories.asset(world, site)
    _turn_on(client, world)
    for words in ("冷柜不制冷", "冷柜又不制冷了", "冷柜完全不制冷"):
        factories.work_order(world, customer, site, title=words, asset_ids=[asset.id])
    factories.work_order(world, customer, site, title="门把手松了", asset_ids=[asset.id])
    [preventive] = _preventive(factories, asset.id)
    assert preventive.category_id is None
    assert len(_flags(factories)[0].data["work_order_ids"]) == 3  # not the door handle


def test_the_preventive_category_must_be_a_usable_leaf_of_the_tenant(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    path = factories.category_path(world)
    foreign = factories.category_path(factories.tenant())[-1]
    admin = client.as_(world.admin_token)
    settings = {"repeat_window_days": 3, "repeat_threshold": 3, "repeat_opens_preventive": True}
    for category, code in ((path[0], "not_leaf"), (foreign, "not_found")):
        body = settings | {"repeat_preventive_category_id": str(category.id)}
        response = admin.request("PUT", "/v1/tenant/repeat-issue-settings", json=body)
        problem = assert_problem(response, 422, "request.validation_failed")
        assert problem["errors"][0]["field"] == "repeat_preventive_category_id"
        assert problem["errors"][0]["code"] == code
