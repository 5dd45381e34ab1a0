"""A work order's life through ``POST /v1/work-orders/{id}/transitions``: who may move
it, what is refused, and what each change leaves behind (history, outbox, notices)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select, update

from api.auth.keys import create_api_key
from api.db import UnitOfWorkFactory
from api.notifications.models import Notification
from api.outbox.models import OutboxMessage
from api.outbox.registry import HANDLERS
from api.outbox.worker import run_once
from api.technicians.models import Technician
from api.workorders.states import Status
from tests.conftest import count_rows
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene


def _move(client: ApiClient, token: str, order_id: Any, action: str, **extra: Any) -> Any:
    return client.as_(token).post(
        f"/v1/work-orders/{order_id}/transitions", json={"action": action, **extra}
    )


def _ok(client: ApiClient, token: str, order_id: Any, action: str, **extra: Any) -> dict:
    response = _move(client, token, order_id, action, **extra)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _new_order(factories: Factories, scene: Scene) -> Any:
    return factories.work_order(scene.world, scene.customer, scene.site)


def test_an_order_lives_from_new_to_closed_moved_by_the_right_people(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = _new_order(factories, scene)
    office, tech = scene.dispatcher_token, scene.technician_token

    body = _ok(client, office, order.id, "assign", assignee_id=str(scene.technician.id))
    assert body["status"] == "assigned" and body["assignee_id"] == str(scene.technician.id)
    steps = [
        ("accept", {}, "accepted", ["start_travel"]),
        ("start_travel", {}, "en_route", ["arrive"]),
        ("arrive", {}, "on_site", ["start_work"]),
        ("start_work", {}, "in_progress", ["pause", "complete"]),
        ("pause", {"reason": "等备件"}, "paused", ["resume"]),
        ("resume", {}, "in_progress", ["pause", "complete"]),
        ("pause", {"reason": "午休"}, "paused", ["resume"]),
        ("resume", {}, "in_progress", ["pause", "complete"]),
        ("complete", {"resolution": "更换压缩机继电器"}, "completed", []),
    ]
    for action, extra, status, next_actions in steps:
        body = _ok(client, tech, order.id, action, **extra)
        assert (body["status"], body["allowed_actions"]) == (status, next_actions), action
    assert body["completed_at"] is not None and body["resolution"] == "更换压缩机继电器"
    closed = _ok(client, office, order.id, "close")
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert closed["allowed_actions"] == ["reopen"]
    assert closed["version"] == 1 + 1 + len(steps) + 1

    history = client.as_(office).get(f"/v1/work-orders/{order.id}/history").get_json()["items"]
    assert [(h["action"], h["from_status"], h["to_status"]) for h in history] == [
        ("create", None, "new"),
        ("assign", "new", "assigned"),
        ("accept", "assigned", "accepted"),
        ("start_travel", "accepted", "en_route"),
        ("arrive", "en_route", "on_site"),
        ("start_work", "on_site", "in_progress"),
        ("pause", "in_progress", "paused"),
        ("resume", "paused", "in_progress"),
        ("pause", "in_progress", "paused"),
        ("resume", "paused", "in_progress"),
        ("complete", "in_progress", "completed"),
        ("close", "completed", "closed"),
    ]
    actors = [h["actor_id"] for h in history]
    assert actors[0] == str(scene.world.admin.id)
    assert actors[1] == actors[-1] == str(scene.dispatcher_id)
    assert set(actors[2:-1]) == {str(scene.technician.user_id)}
    assert history[6]["reason"] == "等备件"


def test_an_illegal_action_is_409_with_what_is_allowed_and_changes_nothing(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    order = _new_order(factories, scene)
    before = count_rows(engine)
    response = _move(client, scene.dispatcher_token, order.id, "close")
    body = assert_problem(response, 409, "work_order.illegal_transition")
    assert body["current_status"] == "new"
    assert body["allowed_actions"] == ["assign", "cancel"]
    assert count_rows(engine) == before
    read = client.as_(scene.dispatcher_token).get(f"/v1/work-orders/{order.id}").get_json()
    assert (read["status"], read["version"]) == ("new", 1)


def test_another_technician_cannot_even_see_the_order(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    _, _, other_token = factories.technician_user(scene.world)
    order = factories.advance(
        scene.world, _new_order(factories, scene), Status.ASSIGNED, scene.technician
    )
    assert_problem(_move(client, other_token, order.id, "accept"), 404, "work_order.not_found")
    assert_problem(
        client.as_(other_token).get(f"/v1/work-orders/{order.id}"), 404, "work_order.not_found"
    )


def test_the_assigned_technician_may_not_take_dispatcher_actions(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    scene = factories.scene()
    order = factories.advance(
        scene.world, _new_order(factories, scene), Status.COMPLETED, scene.technician
    )
    before = count_rows(engine)
    response = _move(client, scene.technician_token, order.id, "close")
    assert_problem(response, 403, "work_order.transition_forbidden")
    response = _move(client, scene.technician_token, order.id, "reopen", reason="忘了拍照")
    assert_problem(response, 403, "work_order.transition_forbidden")
    assert count_rows(engine) == before


def test_customer_contact_may_cancel_until_the_technician_sets_off(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    fresh = _new_order(factories, scene)
    body = _ok(client, scene.contact_token, fresh.id, "cancel", reason="已自行修好")
    assert body["status"] == "cancelled" and body["cancelled_at"] is not None
    assert body["allowed_actions"] == []

    travelling = factories.advance(
        scene.world, _new_order(factories, scene), Status.EN_ROUTE, scene.technician
    )
    assert travelling.allowed_actions != []
    response = _move(client, scene.contact_token, travelling.id, "cancel", reason="不用来了")
    assert_problem(response, 403, "work_order.transition_forbidden")
    response = _move(client, scene.contact_token, travelling.id, "arrive")
    assert_problem(response, 403, "work_order.transition_forbidden")


def test_reopen_goes_back_to_the_assignee_and_clears_the_end_timestamps(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    office = scene.dispatcher_token
    closed = factories.advance(
        scene.world, _new_order(factories, scene), Status.CLOSED, scene.technician
    )
    reopened = _ok(client, office, closed.id, "reopen", reason="客户反馈仍不制冷")
    assert reopened["status"] == "assigned"
    assert reopened["assignee_id"] == str(scene.technician.id)
    assert reopened["completed_at"] is None and reopened["closed_at"] is None

    cancelled = factories.transition(
        scene.world, _new_order(factories, scene), "cancel", reason="重复工单"
    )
    body = _ok(client, office, cancelled.id, "reopen", reason="不是重复")
    assert (body["status"], body["assignee_id"], body["cancelled_at"]) == ("new", None, None)


def test_missing_reason_resolution_or_assignee_is_named(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    office = scene.dispatcher_token
    order = _new_order(factories, scene)
    working = factories.advance(
        scene.world, _new_order(factories, scene), Status.IN_PROGRESS, scene.technician
    )
    for order_id, action, extra, field in [
        (order.id, "assign", {}, "assignee_id"),
        (order.id, "cancel", {"reason": " "}, "reason"),
        (working.id, "complete", {}, "resolution"),
        (working.id, "pause", {}, "reason"),
    ]:
        body = assert_problem(
            _move(client, office, order_id, action, **extra), 422, "request.validation_failed"
        )
        assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, "required")]
    unknown = _move(client, office, order.id, "teleport")
    body = assert_problem(unknown, 422, "request.validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("action", "not_allowed")]


def test_only_an_active_technician_of_the_tenant_can_be_assigned(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, engine: Engine
) -> None:
    scene = factories.scene()
    order = _new_order(factories, scene)
    outsider = factories.technician(factories.tenant())
    retired = factories.technician(scene.world)
    with uow_factory() as uow:
        uow.session.execute(
            update(Technician).where(Technician.id == retired.id).values(active=False)
        )
        uow.commit()
    before = count_rows(engine)
    for technician, code in [(outsider, "not_found"), (retired, "inactive")]:
        response = _move(
            client, scene.dispatcher_token, order.id, "assign", assignee_id=str(technician.id)
        )
        body = assert_problem(response, 422, "request.validation_failed")
        assert [(e["field"], e["code"]) for e in body["errors"]] == [("assignee_id", code)]
    assert count_rows(engine) == before


def test_declining_hands_the_order_back_and_out_of_the_technicians_sight(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = factories.advance(
        scene.world, _new_order(factories, scene), Status.ASSIGNED, scene.technician
    )
    body = _ok(client, scene.technician_token, order.id, "decline", reason="不在本区域")
    assert (body["status"], body["assignee_id"]) == ("new", None)
    listed = client.as_(scene.technician_token).get("/v1/work-orders").get_json()
    assert listed["items"] == []


def test_reassigning_moves_the_order_to_the_new_technician(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    second, _, second_token = factories.technician_user(scene.world)
    order = factories.advance(
        scene.world, _new_order(factories, scene), Status.ACCEPTED, scene.technician
    )
    body = _ok(client, scene.dispatcher_token, order.id, "assign", assignee_id=str(second.id))
    assert (body["status"], body["assignee_id"]) == ("assigned", str(second.id))
    assert_problem(
        client.as_(scene.technician_token).get(f"/v1/work-orders/{order.id}"),
        404,
        "work_order.not_found",
    )
    assert _ok(client, second_token, order.id, "accept")["status"] == "accepted"


def test_a_stale_if_match_refuses_the_transition(client: ApiClient, factories: Factories) -> None:
    scene = factories.scene()
    order = _new_order(factories, scene)
    factories.transition(scene.world, order, "cancel", reason="重复")
    response = client.as_(scene.dispatcher_token).post(
        f"/v1/work-orders/{order.id}/transitions",
        json={"action": "reopen", "reason": "误操作"},
        headers={"If-Match": '"1"'},
    )
    assert assert_problem(response, 412, "concurrency.stale_version")["current_version"] == 2


def test_a_retried_transition_with_the_same_idempotency_key_is_applied_once(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = factories.advance(
        scene.world, _new_order(factories, scene), Status.ACCEPTED, scene.technician
    )
    api = client.as_(scene.technician_token)
    url = f"/v1/work-orders/{order.id}/transitions"
    headers = {"Idempotency-Key": "device-7:seq-42"}
    first = api.post(url, json={"action": "start_travel"}, headers=headers)
    again = api.post(url, json={"action": "start_travel"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    history = api.get(f"/v1/work-orders/{order.id}/history").get_json()["items"]
    assert [h["action"] for h in history].count("start_travel") == 1


def test_each_transition_is_published_and_the_worker_notifies_the_people_involved(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    order = _new_order(factories, scene)
    _ok(client, scene.dispatcher_token, order.id, "assign", assignee_id=str(scene.technician.id))
    _ok(client, scene.technician_token, order.id, "accept")
    _ok(client, scene.technician_token, order.id, "start_travel")

    with uow_factory() as uow:
        messages = list(uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [m.topic for m in messages] == ["work_order.status_changed"] * 3
    assert [(m.payload["from_status"], m.payload["to_status"]) for m in messages] == [
        ("new", "assigned"),
        ("assigned", "accepted"),
        ("accepted", "en_route"),
    ]
    payload = dict(messages[0].payload)
    assert payload.pop("occurred_at").endswith("Z")  # when the step happened
    assert payload == {
        "tenant_id": str(scene.world.tenant_id),
        "work_order_id": str(order.id),
        "number": order.number,
        "from_status": "new",
        "to_status": "assigned",
        "action": "assign",
        "actor_id": str(scene.dispatcher_id),
        "assignee_id": str(scene.technician.id),
        "customer_id": str(scene.customer.id),
        "created_by": str(scene.world.admin.id),
        "previous_assignee_id": None,
        "reason": None,
    }

    assert run_once(uow_factory, HANDLERS) == 3
    with uow_factory() as uow:
        notices = list(uow.session.scalars(select(Notification)))
    received = {(n.user_id, n.data["to_status"]) for n in notices}
    technician_user, contact_user = scene.technician.user_id, scene.contact_user_id
    # The technician hears of the assignment, not of their own moves; the customer hears
    # of the assignment and the departure; nobody is told twice.
    assert (technician_user, "assigned") in received
    assert (technician_user, "accepted") not in received
    assert {s for u, s in received if u == contact_user} == {"assigned", "en_route"}
    assert len(notices) == len({(n.user_id, n.source_message_id) for n in notices})
    assert all(n.title.startswith(f"工单 {order.number}") for n in notices)


def test_an_integration_key_acts_as_the_office_within_its_scopes(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    scopes = ["work_orders:read", "work_orders:create", "work_orders:transition"]
    _, key = create_api_key(factories.uow(), world.admin_actor, {"name": "ERP", "scopes": scopes})
    _, read_only = create_api_key(
        factories.uow(), world.admin_actor, {"name": "BI", "scopes": ["work_orders:read"]}
    )
    created = (
        client.as_(key)
        .post(
            "/v1/work-orders",
            json={
                "title": "来自 ERP",
                "customer_id": str(scene.customer.id),
                "site_id": str(scene.site.id),
            },
        )
        .get_json()
    )
    assert created["created_by"] is None  # no person to notify
    body = _ok(client, key, created["id"], "assign", assignee_id=str(scene.technician.id))
    assert body["allowed_actions"] == ["assign", "unassign", "accept", "decline", "cancel"]
    history = client.as_(key).get(f"/v1/work-orders/{created['id']}/history").get_json()
    assert history["items"][-1]["actor_kind"] == "api_key"
    seen = client.as_(read_only).get(f"/v1/work-orders/{created['id']}").get_json()
    assert seen["allowed_actions"] == []
    assert_problem(
        _move(client, read_only, created["id"], "cancel", reason="x"), 403, "auth.forbidden"
    )


def test_a_closed_or_cancelled_order_is_read_only_until_reopened(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = factories.advance(
        scene.world, _new_order(factories, scene), Status.CLOSED, scene.technician
    )
    api = client.as_(scene.dispatcher_token)
    etag = api.get(f"/v1/work-orders/{order.id}").headers["ETag"]
    refused = api.patch(f"/v1/work-orders/{order.id}", json={"title": "改写历史"}, etag=etag)
    assert_problem(refused, 409, "work_order.locked")
    reopened = _ok(client, scene.dispatcher_token, order.id, "reopen", reason="客户反馈仍有问题")
    etag = f'"{reopened["version"]}"'
    assert (
        api.patch(f"/v1/work-orders/{order.id}", json={"title": "复修"}, etag=etag).status_code
        == 200
    )


def test_customers_see_the_steps_but_not_internal_reasons_or_staff(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = factories.advance(
        scene.world, _new_order(factories, scene), Status.IN_PROGRESS, scene.technician
    )
    _ok(client, scene.technician_token, order.id, "pause", reason="等配件，仓库说周五到")
    _ok(client, scene.dispatcher_token, order.id, "cancel", reason="客户要求取消")
    staff_view = (
        client.as_(scene.dispatcher_token).get(f"/v1/work-orders/{order.id}/history").get_json()
    )
    customer_view = (
        client.as_(scene.contact_token).get(f"/v1/work-orders/{order.id}/history").get_json()
    )
    assert [c["action"] for c in customer_view["items"]] == [
        c["action"] for c in staff_view["items"]
    ]
    reasons = {c["action"]: c["reason"] for c in customer_view["items"]}
    assert reasons["pause"] is None and reasons["cancel"] == "客户要求取消"
    assert all(c["actor_id"] is None for c in customer_view["items"] if c["actor_kind"] == "user")
    assert {c["action"]: c["reason"] for c in staff_view["items"]}[
        "pause"
    ] == "等配件，仓库说周五到"
