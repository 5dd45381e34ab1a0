"""Repeat-issue detection: one asset, one category, too many orders in a few days."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from api.auth.permissions import Role
from api.db import utcnow
from api.notifications.models import Notification
from api.workorders.models import WorkOrder, WorkOrderAsset
from api.workorders.states import Status
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.push import Device, new_id


def _flags(factories: Factories) -> list[Notification]:
    with factories.uow() as uow:
        return list(
            uow.session.scalars(
                select(Notification).where(Notification.kind == "asset.repeat_issue")
            )
        )


def _preventive(factories: Factories, asset_id: object) -> list[WorkOrder]:
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
    assert admin.get("/v1/tenant/repeat-issue-settings").get_json() == settings
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
