"""Escalation rules through the API, and the worker's sweep with an injected clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from api.auth.permissions import Role
from api.db import UnitOfWorkFactory
from api.notifications.models import Notification
from api.outbox.registry import HANDLERS
from api.outbox.worker import run_once
from api.servicedesk.escalation_models import EscalationCheck
from api.servicedesk.escalation_sweep import sweep
from api.workorders.states import Status
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories

URGENT_NOT_ACCEPTED = {
    "and": [
        {"==": [{"var": "priority"}, "urgent"]},
        {"in": [{"var": "status"}, ["new", "assigned"]]},
    ]
}
BIG_COMPLAINT = {"and": [{"var": "complaint"}, {">": [{"var": "amount"}, 10000]}]}


def _rule(api: ApiClient, **data: Any) -> dict[str, Any]:
    body = {"name": "规则", "level": 1, "trigger": "created", "minutes": 240} | data
    created = api.post("/v1/escalation-rules", json=body)
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def _created(api: ApiClient, order_id: Any) -> datetime:
    text = api.get(f"/v1/work-orders/{order_id}").get_json()["created_at"]
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _deliver(uow_factory: UnitOfWorkFactory) -> None:
    while run_once(uow_factory, HANDLERS):
        pass


def _notified(uow_factory: UnitOfWorkFactory, user_id: uuid.UUID) -> list[Notification]:
    with uow_factory() as uow:
        return list(
            uow.session.scalars(
                select(Notification).where(
                    Notification.user_id == user_id, Notification.kind == "work_order.escalated"
                )
            )
        )


def _escalations(api: ApiClient, order_id: Any) -> list[dict[str, Any]]:
    response = api.get(f"/v1/work-orders/{order_id}/escalations")
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["items"])


def test_rules_are_saved_read_changed_and_deleted(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    rule = _rule(api, logic=URGENT_NOT_ACCEPTED, action="notify_supervisor")
    assert rule["business_time"] is False and rule["active"] is True
    assert api.get(f"/v1/escalation-rules/{rule['id']}").get_json()["name"] == "规则"
    listed = api.get("/v1/escalation-rules").get_json()["items"]
    assert [r["id"] for r in listed] == [rule["id"]]
    changed = api.patch(
        f"/v1/escalation-rules/{rule['id']}", json={"minutes": 120, "level": 2}, etag='"1"'
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["minutes"] == 120 and changed.get_json()["level"] == 2
    assert api.delete(f"/v1/escalation-rules/{rule['id']}", etag='"2"').status_code == 204
    assert_problem(api.get(f"/v1/escalation-rules/{rule['id']}"), 404, "escalation_rule.not_found")


def test_rules_that_cannot_work_are_refused_when_saved(
    client: ApiClient, factories: Factories
) -> None:
    world, other = factories.tenant(), factories.tenant()
    api = client.as_(world.admin_token)
    base = {"name": "坏规则", "level": 1, "action": "notify_managers"}
    cases = [
        base | {"trigger": "created", "minutes": 60, "logic": {"nope": [1]}},
        base | {"trigger": "created", "minutes": 60, "logic": {"==": [{"var": "colour"}, 1]}},
        base | {"trigger": "sla", "percent": 75},  # which target?
        base | {"trigger": "sla", "sla_target": "resolution"},  # what percentage?
        base | {"trigger": "created"},  # how long?
        base | {"trigger": "status", "minutes": 5, "percent": 75, "sla_target": "arrival"},
    ]
    for body in cases:
        assert_problem(api.post("/v1/escalation-rules", json=body), 422, "escalation_rule.invalid")
    foreign_team = factories.team(other)
    foreign_category = factories.category_path(other)[0]
    for field, value in (("team_id", foreign_team.id), ("category_id", foreign_category.id)):
        body = base | {"trigger": "created", "minutes": 0, field: str(value)}
        if field == "team_id":
            body["action"] = "notify_supervisor"
        problem = assert_problem(
            api.post("/v1/escalation-rules", json=body), 422, "request.validation_failed"
        )
        assert [e["field"] for e in problem["errors"]] == [field]
    assert api.get("/v1/escalation-rules").get_json()["items"] == []


def test_another_tenants_rule_is_not_found(client: ApiClient, factories: Factories) -> None:
    world, other = factories.tenant(), factories.tenant()
    rule = _rule(client.as_(world.admin_token), action="notify_managers")
    theirs = client.as_(other.admin_token)
    assert_problem(
        theirs.get(f"/v1/escalation-rules/{rule['id']}"), 404, "escalation_rule.not_found"
    )
    assert_problem(
        theirs.patch(f"/v1/escalation-rules/{rule['id']}", json={"minutes": 1}, etag='"1"'),
        404,
        "escalation_rule.not_found",
    )


def test_urgent_and_not_accepted_within_four_hours_reaches_the_team_supervisor_once(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    supervisor, _ = factories.user(world, Role.DISPATCHER)
    team = factories.team(world, supervisor_user_id=supervisor.id)
    technician = factories.technician(world, team_id=team.id)
    _rule(api, name="紧急未接单", logic=URGENT_NOT_ACCEPTED, action="notify_supervisor")
    late = factories.work_order(world, priority="urgent")
    factories.transition(world, late, "assign", assignee_id=technician.id)
    accepted = factories.work_order(world, priority="urgent")
    factories.advance(world, accepted, Status.ACCEPTED, technician)
    calm = factories.work_order(world, priority="low")
    created = _created(api, late.id)

    assert sweep(uow_factory, created + timedelta(hours=3, minutes=59)) == 0
    assert sweep(uow_factory, created + timedelta(hours=4, minutes=1)) == 1
    assert sweep(uow_factory, created + timedelta(hours=9)) == 0  # once, however often it runs
    _deliver(uow_factory)

    (fired,) = _escalations(api, late.id)
    assert fired["rule_name"] == "紧急未接单" and fired["level"] == 1
    assert fired["recipients"] == [str(supervisor.id)]
    assert _escalations(api, accepted.id) == [] and _escalations(api, calm.id) == []
    (notice,) = _notified(uow_factory, supervisor.id)
    assert late.number in notice.title and notice.data["level"] == 1
    trail = api.get(f"/v1/audit-events?entity_id={late.id}&action=escalate").get_json()["items"]
    assert trail[0]["changes"]["escalation"]["after"]["rule"] == "紧急未接单"


def test_a_big_complaint_reaches_the_managers_at_once(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    manager, _ = factories.user(world, Role.DISPATCHER, manager=True)
    factories.user(world, Role.DISPATCHER)  # not a manager: not told
    _rule(api, name="大额投诉", logic=BIG_COMPLAINT, minutes=0, action="notify_managers")
    customer = factories.customer(world)
    site = factories.site(world, customer)
    body = {"title": "投诉：维修后仍漏水", "customer_id": str(customer.id), "site_id": str(site.id)}
    big = api.post(
        "/v1/work-orders",
        json=body | {"complaint": True, "amount": {"amount": "12000.00", "currency": "CNY"}},
    ).get_json()
    assert big["amount"] == {"amount": "12000.00", "currency": "CNY"} and big["complaint"] is True
    small = api.post(
        "/v1/work-orders",
        json=body | {"complaint": True, "amount": {"amount": "800", "currency": "CNY"}},
    ).get_json()

    assert sweep(uow_factory, datetime.now(UTC) + timedelta(seconds=1)) == 1
    _deliver(uow_factory)
    assert [e["recipients"] for e in _escalations(api, big["id"])] == [[str(manager.id)]]
    assert _escalations(api, small["id"]) == []
    assert len(_notified(uow_factory, manager.id)) == 1


def test_only_office_people_can_be_managers(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    technician = factories.technician(world)
    made = api.post(
        "/v1/users",
        json={
            "email": "t@example.test",
            "name": "技师",
            "role": "technician",
            "password": "correct-horse-42",
            "technician_id": str(technician.id),
            "manager": True,
        },
    )
    problem = assert_problem(made, 422, "request.validation_failed")
    assert problem["errors"][0]["field"] == "manager"
    me = api.get(f"/v1/users/{world.admin.id}")
    promoted = api.patch(
        f"/v1/users/{world.admin.id}", json={"manager": True}, etag=me.headers["ETag"]
    )
    assert promoted.status_code == 200 and promoted.get_json()["manager"] is True


def test_a_warning_at_75_percent_waits_while_the_clocks_are_paused(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    api.post("/v1/sla-policies", json={"name": "标准", "resolution_minutes": 400})
    technician, tech_user, _ = factories.technician_user(world)
    _rule(
        api,
        name="解决时限 75%",
        trigger="sla",
        minutes=None,
        sla_target="resolution",
        percent=75,
        action="notify_assignee",
    )
    order = factories.work_order(world)
    factories.transition(world, order, "assign", assignee_id=technician.id)
    created = _created(api, order.id)

    paused = api.post(f"/v1/work-orders/{order.id}/sla/pauses", json={"reason": "客户要求下周再约"})
    assert paused.status_code == 201, paused.get_json()
    assert_problem(
        api.post(f"/v1/work-orders/{order.id}/sla/pauses", json={"reason": "again"}),
        409,
        "sla.already_paused",
    )
    sla = api.get(f"/v1/work-orders/{order.id}/sla").get_json()
    assert sla["state"] == "paused" and sla["resolution_due_at"] is None
    with uow_factory() as uow:
        assert uow.session.get(EscalationCheck, order.id) is None  # nothing to sweep
    assert sweep(uow_factory, created + timedelta(minutes=301)) == 0

    resumed = api.post(f"/v1/work-orders/{order.id}/sla/resume", json={"reason": "客户已回电"})
    assert resumed.status_code == 200, resumed.get_json()
    assert_problem(
        api.post(f"/v1/work-orders/{order.id}/sla/resume", json={}), 409, "sla.not_paused"
    )
    sla = api.get(f"/v1/work-orders/{order.id}/sla").get_json()
    assert sla["state"] == "running" and sla["resolution_due_at"] is not None
    pauses = api.get(f"/v1/work-orders/{order.id}/sla/pauses").get_json()["items"]
    assert [(p["reason"], p["resume_reason"]) for p in pauses] == [
        ("客户要求下周再约", "客户已回电")
    ]
    with uow_factory() as uow:
        check = uow.session.get(EscalationCheck, order.id)
        assert check is not None and check.due_at >= created + timedelta(minutes=300)
    assert sweep(uow_factory, check.due_at + timedelta(seconds=1)) == 1
    _deliver(uow_factory)
    assert len(_notified(uow_factory, tech_user.id)) == 1


def test_first_response_and_arrival_are_marked_once_by_the_step_that_met_them(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    api.post(
        "/v1/sla-policies",
        json={"name": "标准", "first_response_minutes": 60, "arrival_minutes": 240},
    )
    technician = factories.technician(world)
    order = factories.advance(world, factories.work_order(world), Status.ON_SITE, technician)
    sla = api.get(f"/v1/work-orders/{order.id}/sla").get_json()
    assert sla["first_response_met_by"] == "assign" and sla["first_response_breached"] is False
    assert sla["arrival_met_by"] == "arrive" and sla["arrival_breached"] is False
    first = sla["first_response_met_at"]
    factories.transition(world, order, "start_work")
    again = api.get(f"/v1/work-orders/{order.id}/sla").get_json()
    assert again["first_response_met_at"] == first and again["arrival_met_by"] == "arrive"


def test_raising_the_priority_moves_the_order_one_step_up(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    _rule(
        api,
        name="两小时未派工",
        minutes=120,
        logic={"==": [{"var": "assigned"}, False]},
        action="raise_priority",
    )
    order = factories.work_order(world, priority="medium")
    created = _created(api, order.id)
    assert sweep(uow_factory, created + timedelta(hours=2, seconds=1)) == 1
    shown = api.get(f"/v1/work-orders/{order.id}").get_json()
    assert shown["priority"] == "high"
    (fired,) = _escalations(api, order.id)
    assert (fired["priority_before"], fired["priority_after"]) == ("medium", "high")


def test_a_finished_or_paused_order_is_never_escalated(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    _rule(api, minutes=60, action="notify_managers")
    factories.user(world, Role.DISPATCHER, manager=True)
    done = factories.work_order(world)
    factories.transition(world, done, "cancel", reason="客户取消")
    created = _created(api, done.id)
    assert sweep(uow_factory, created + timedelta(days=3)) == 0
    assert_problem(
        api.post(f"/v1/work-orders/{done.id}/sla/pauses", json={"reason": "x"}),
        409,
        "sla.order_finished",
    )


def test_within_four_business_hours_counts_on_the_tenant_calendar(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    # No working time but one day three weeks from now, 09:00-18:00 in Shanghai.
    day = (datetime.now(UTC) + timedelta(days=21)).date()
    calendar = api.post(
        "/v1/business-calendars",
        json={"name": "默认", "time_zone": "Asia/Shanghai", "weekly_hours": {}},
    ).get_json()
    api.request(
        "PUT",
        f"/v1/business-calendars/{calendar['id']}/days/{day.isoformat()}",
        json={"hours": [{"start": "09:00", "end": "18:00"}]},
    )
    factories.user(world, Role.DISPATCHER, manager=True)
    _rule(api, name="四个工作小时", business_time=True, action="notify_managers")
    order = factories.work_order(world)
    due = datetime(day.year, day.month, day.day, 5, 0, tzinfo=UTC)  # 13:00 in Shanghai
    with uow_factory() as uow:
        check = uow.session.get(EscalationCheck, order.id)
        assert check is not None and check.due_at == due
    # The office shortens that day: the check moves with it.
    api.request(
        "PUT",
        f"/v1/business-calendars/{calendar['id']}/days/{day.isoformat()}",
        json={"hours": [{"start": "10:00", "end": "18:00"}]},
    )
    due += timedelta(hours=1)
    with uow_factory() as uow:
        check = uow.session.get(EscalationCheck, order.id)
        assert check is not None and check.due_at == due
    assert sweep(uow_factory, due - timedelta(seconds=1)) == 0
    assert sweep(uow_factory, due) == 1
    (fired,) = _escalations(api, order.id)
    assert datetime.fromisoformat(fired["due_at"].replace("Z", "+00:00")) == due
