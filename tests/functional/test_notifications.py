"""Notifications speak their recipient's language, name the step and carry its reason."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from api.db import UnitOfWorkFactory
from api.notifications.models import Notification
from api.outbox.registry import HANDLERS
from api.outbox.worker import run_once
from api.users.models import User
from api.workorders.states import Status
from tests.support.api_client import ApiClient
from tests.support.factories import Factories


def _notices(uow_factory: UnitOfWorkFactory, user_id: uuid.UUID) -> list[Notification]:
    with uow_factory.reader() as uow:
        return list(
            uow.session.scalars(
                select(Notification)
                .where(Notification.user_id == user_id)
                .order_by(Notification.id)
            )
        )


def _step(client: ApiClient, token: str, order_id: uuid.UUID, **body: Any) -> None:
    response = client.as_(token).post(
        f"/v1/work-orders/{order_id}/transitions",
        json=body,
        headers={"Accept-Language": "zh-CN"},  # the actor's language, not the recipients'
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def test_a_decline_reaches_the_dispatcher_in_their_language_with_the_reason(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant(locale="en")  # an English-speaking company
    scene = factories.scene(world)
    order = factories.work_order(world, scene.customer, scene.site)  # created by the admin
    order = factories.transition(world, order, "assign", assignee_id=scene.technician.id)

    _step(client, scene.technician_token, order.id, action="decline", reason="客户不在家")
    run_once(uow_factory, HANDLERS)

    (notice,) = [n for n in _notices(uow_factory, world.admin.id) if n.data["action"] == "decline"]
    assert notice.locale == "en"
    assert notice.title == f"Work order {order.number} was declined"
    assert notice.body == "Reason: 客户不在家"
    assert notice.data["reason"] == "客户不在家"
    # Read through the API in another language, it is still the recipient's.
    listed = client.as_(world.admin_token).get(
        "/v1/notifications", headers={"Accept-Language": "zh-CN"}
    )
    shown = next(n for n in listed.get_json()["items"] if n["id"] == str(notice.id))
    assert (shown["locale"], shown["title"], shown["body"]) == (
        "en",
        f"Work order {order.number} was declined",
        "Reason: 客户不在家",
    )


def test_each_person_hears_in_their_own_language_and_a_pause_says_why(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()  # a Chinese company …
    world = scene.world
    with factories.uow() as uow:  # … whose admin reads English
        uow.session.get_one(User, world.admin.id).locale = "en"
        uow.commit()
    order = factories.work_order(world, scene.customer, scene.site)
    order = factories.advance(world, order, Status.ON_SITE, scene.technician)
    _step(client, scene.technician_token, order.id, action="start_work")
    _step(client, scene.technician_token, order.id, action="pause", reason="等配件")
    run_once(uow_factory, HANDLERS)

    admin = {n.data["action"]: n for n in _notices(uow_factory, world.admin.id)}
    assert admin["pause"].title == f"Work order {order.number} was paused"
    assert admin["pause"].body == "Reason: 等配件"
    assert admin["start_work"].title == f"Work order {order.number}: work has started"
    customer = {n.data["action"]: n for n in _notices(uow_factory, scene.contact_user_id)}
    assert customer["arrive"].locale == "zh-CN"
    assert customer["arrive"].title == f"工单 {order.number}：技师已到达现场"


def test_a_customer_hears_why_their_order_was_cancelled_but_not_internal_remarks(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    world = scene.world
    order = factories.work_order(world, scene.customer, scene.site)
    order = factories.advance(world, order, Status.COMPLETED, scene.technician)
    _step(client, scene.dispatcher_token, order.id, action="reopen", reason="质检不合格")
    _step(client, scene.dispatcher_token, order.id, action="cancel", reason="客户已自行维修")
    run_once(uow_factory, HANDLERS)

    customer = {n.data["action"]: n for n in _notices(uow_factory, scene.contact_user_id)}
    assert customer["reopen"].title == f"工单 {order.number} 已重新打开"
    assert customer["reopen"].body is None and customer["reopen"].data["reason"] is None
    assert customer["cancel"].title == f"工单 {order.number} 已取消"
    assert customer["cancel"].body == "原因：客户已自行维修"
    technician = {n.data["action"]: n for n in _notices(uow_factory, scene.technician.user_id)}
    assert technician["reopen"].body == "原因：质检不合格"  # staff read internal remarks


def test_a_user_speaks_their_companys_language_unless_they_choose(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant(locale="en")
    created = client.as_(world.admin_token).post(
        "/v1/users",
        json={"email": "d@x.test", "name": "D", "role": "dispatcher", "password": "pw-12345678!"},
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["locale"] == "en"
    chosen = client.as_(world.admin_token).post(
        "/v1/users",
        json={
            "email": "e@x.test",
            "name": "E",
            "role": "dispatcher",
            "password": "pw-12345678!",
            "locale": "zh-CN",
        },
    )
    assert chosen.get_json()["locale"] == "zh-CN"
