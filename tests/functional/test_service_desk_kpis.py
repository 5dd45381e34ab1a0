"""Service desk KPIs: computed by the database, checked against a Python oracle.

The oracle below reads the same rows through the ORM and computes every figure
the plain way (sorting lists, counting in Python, the calendar engine's own
``Timeline.worked`` for business time), on generated orders: random paths
through the state machine at stated past times, revisits and reopens,
cancellations, escalations, ratings, an SLA policy and a business calendar.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from api.auth.permissions import Role
from api.db import utcnow
from api.servicedesk.calendar import Timeline
from api.servicedesk.escalation_models import Escalation, SlaPause
from api.servicedesk.models import BusinessCalendar, WorkOrderSla
from api.servicedesk.queries import rules_of
from api.technicians.models import Technician
from api.tracking.models import WorkOrderRating
from api.workorders.models import StatusChange, WorkOrder
from api.workorders.states import Status
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.core import World

NINE_TO_SIX = [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "18:00"}]
WEEKDAYS = {day: NINE_TO_SIX for day in ("mon", "tue", "wed", "thu", "fri")}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _kpis(api: ApiClient, **query: str) -> dict[str, Any]:
    response = api.get("/v1/service-desk/kpis", query_string=query)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def _text(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _shown(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _backdate_creation(factories: Factories, order_id: uuid.UUID, at: datetime) -> None:
    with factories.uow() as uow:
        uow.session.execute(update(WorkOrder).where(WorkOrder.id == order_id).values(created_at=at))
        uow.session.execute(
            update(StatusChange)
            .where(StatusChange.work_order_id == order_id)
            .values(occurred_at=at, recorded_at=at)
        )
        uow.commit()


def _step(factories: Factories, world: World, order_id: uuid.UUID, action: str, at: datetime,
          **command: Any) -> None:  # fmt: skip
    factories.transition(world, order_id, action, occurred_at=at, **command)


def _generate(factories: Factories, world: World, seed: int, now: datetime) -> dict[str, Any]:
    """Random orders over the last 20 days; returns the teams and categories used."""
    rng = random.Random(seed)  # a path takes at most ~2 days: every step is in the past
    team_a, team_b = factories.team(world), factories.team(world)
    techs = [factories.technician(world, team_id=t.id) for t in (team_a, team_b, team_b)]
    leaves = [
        factories.category_path(world)[-1],
        factories.category_path(world, ("hvac", "chiller", "noise"))[-1],
    ]
    customer = factories.customer(world)
    site = factories.site(world, customer)
    for n in range(28):
        created = now - timedelta(days=rng.uniform(3, 20), seconds=rng.randint(0, 59))
        order = factories.work_order(
            world,
            customer,
            site,
            title=f"工单 {n} {rng.random()}",
            priority=rng.choice(["low", "medium", "high", "urgent"]),
            category_id=rng.choice(leaves).id if rng.random() < 0.8 else None,
        )
        _backdate_creation(factories, order.id, created)
        at = created
        fate = rng.random()
        if fate < 0.1:
            _step(factories, world, order.id, "cancel", at + timedelta(minutes=5), reason="撤单")
            continue
        if fate < 0.2:
            continue  # still new
        at += timedelta(minutes=rng.randint(1, 600), seconds=rng.randint(0, 59))
        tech = rng.choice(techs)
        _step(factories, world, order.id, "assign", at, assignee_id=tech.id)
        visits = 1 if rng.random() < 0.7 else 2
        for visit in range(visits):
            for action in ("accept", "start_travel", "arrive", "start_work"):
                at += timedelta(minutes=rng.randint(1, 240))
                _step(factories, world, order.id, action, at)
            if visit < visits - 1:
                at += timedelta(minutes=rng.randint(1, 60))
                _step(factories, world, order.id, "pause", at, reason="缺配件")
                at += timedelta(minutes=rng.randint(1, 180))  # waiting for parts
                _step(factories, world, order.id, "resume", at)
                # a second visit of the same job: back on the road
                _step(factories, world, order.id, "complete", at + timedelta(minutes=1),
                      resolution="临时处理")  # fmt: skip
                at += timedelta(minutes=2)
                _step(factories, world, order.id, "reopen", at, reason="复发")
                _step(factories, world, order.id, "assign", at, assignee_id=tech.id)
        if rng.random() < 0.8:
            at += timedelta(minutes=rng.randint(1, 600))
            _step(factories, world, order.id, "complete", min(at, now), resolution="已修复")
            with factories.uow() as uow:
                if rng.random() < 0.7:
                    uow.session.add(
                        WorkOrderRating(
                            tenant_id=world.tenant_id, work_order_id=order.id,
                            score=rng.randint(1, 5), rated_at=min(at, now),
                        )
                    )  # fmt: skip
                if rng.random() < 0.3:
                    uow.session.add(
                        Escalation(
                            tenant_id=world.tenant_id, work_order_id=order.id, rule_name="超时",
                            level=1, action="notify_managers", due_at=at, fired_at=at,
                            recipients=[],
                        )
                    )  # fmt: skip
                uow.commit()
    return {"team": team_b.id, "category": leaves[0].id}


def _paused_intervals(steps: list[StatusChange]) -> list[tuple[int, int | None]]:
    """The spans in ``paused`` (these orders are never paused twice at once)."""
    spans: list[tuple[int, int | None]] = []
    for step in sorted(steps, key=lambda c: (c.occurred_at, c.recorded_at)):
        if step.to_status is Status.PAUSED:
            spans.append((int(step.occurred_at.timestamp()), None))
        elif step.from_status is Status.PAUSED:
            spans[-1] = (spans[-1][0], int(step.occurred_at.timestamp()))
    return spans


def _business(timeline: Timeline, created: int, moment: int,
              paused: list[tuple[int, int | None]]) -> int:  # fmt: skip
    """Working time from ``created`` to ``moment``, less what fell in a pause."""
    total = timeline.worked(moment) - timeline.worked(created)
    for begin, end in paused:  # the clocks stood still: not business time
        lo, hi = max(begin, created), min(end if end else moment, moment)
        total -= max(0, timeline.worked(hi) - timeline.worked(lo)) if lo < hi else 0
    return total


def _oracle(factories: Factories, world: World, start: datetime, end: datetime, now: datetime,
            team: uuid.UUID | None = None, category: uuid.UUID | None = None,
            priorities: tuple[str, ...] = ()) -> dict[str, Any]:  # fmt: skip
    with factories.uow() as uow:
        s = uow.session
        chosen = []
        cancelled = 0
        for order in s.scalars(select(WorkOrder).where(WorkOrder.tenant_id == world.tenant_id)):
            if not (start <= order.created_at < end):
                continue
            if priorities and order.priority.value not in priorities:
                continue
            if category is not None and order.category_id != category:
                continue
            if team is not None:
                tech = s.get(Technician, order.assignee_id) if order.assignee_id else None
                if tech is None or tech.team_id != team:
                    continue
            if order.status is Status.CANCELLED:
                cancelled += 1
            else:
                chosen.append(order)
        default = s.scalar(
            select(BusinessCalendar).where(
                BusinessCalendar.tenant_id == world.tenant_id, BusinessCalendar.team_id.is_(None)
            )
        )
        timeline = (
            Timeline(rules_of(s, default, range(start.year, start.year + 4)),
                     (start - timedelta(days=2)).date())
            if default else None
        )  # fmt: skip
        fr, res, fr_b, res_b = [], [], [], []
        resolved = first_contact = escalated = 0
        sla = {"fr": [0, 0], "arr": [0, 0], "res": [0, 0]}
        scores = []
        for order in chosen:
            steps = list(
                s.scalars(select(StatusChange).where(StatusChange.work_order_id == order.id))
            )
            created = int(min(c.occurred_at for c in steps if c.action == "create").timestamp())
            responses = [c.occurred_at for c in steps if c.action in ("assign", "accept")]
            responded = int(min(responses).timestamp()) if responses else None
            completed = int(order.completed_at.timestamp()) if order.completed_at else None
            paused = _paused_intervals(steps)
            if responded is not None:
                fr.append(responded - created)
                if timeline:
                    fr_b.append(_business(timeline, created, responded, paused))
            if completed is not None:
                res.append(completed - created)
                if timeline:
                    res_b.append(_business(timeline, created, completed, paused))
                resolved += 1
                arrivals = sum(c.action == "arrive" for c in steps)
                reopened = any(c.action == "reopen" for c in steps)
                first_contact += arrivals <= 1 and not reopened
            escalated += (
                s.scalar(select(Escalation.id).where(Escalation.work_order_id == order.id).limit(1))
                is not None
            )
            row = s.get(WorkOrderSla, order.id)
            if row is not None:
                for key, due, met, breached in (
                    ("fr", row.first_response_due_at, row.first_response_met_at,
                     row.first_response_breached),
                    ("arr", row.arrival_due_at, row.arrival_met_at, row.arrival_breached),
                    ("res", row.resolution_due_at, order.completed_at,
                     None if order.completed_at is None or row.resolution_due_at is None
                     else order.completed_at > row.resolution_due_at),
                ):  # fmt: skip
                    if due is not None and (met is not None or due < now):
                        sla[key][0] += 1
                        sla[key][1] += met is not None and breached is False
            rating = s.scalar(
                select(WorkOrderRating.score).where(WorkOrderRating.work_order_id == order.id)
            )
            if rating is not None:
                scores.append(rating)

    def pick(values: list[int], p: int) -> int | None:
        return sorted(values)[math.ceil(len(values) * p / 100) - 1] if values else None

    def timing(values: list[int], business: list[int]) -> dict[str, Any]:
        return {
            "count": len(values), "median_seconds": pick(values, 50),
            "p90_seconds": pick(values, 90),
            "business": {"count": len(business), "median_seconds": pick(business, 50),
                         "p90_seconds": pick(business, 90)},
        }  # fmt: skip

    def rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    names = {"fr": "first_response", "arr": "arrival", "res": "resolution"}
    return {
        "from": _shown(start), "to": _shown(end), "orders": len(chosen), "cancelled": cancelled,
        "first_contact_resolution": {"resolved": resolved, "first_contact": first_contact,
                                     "rate": rate(first_contact, resolved)},
        "first_response": timing(fr, fr_b), "resolution": timing(res, res_b),
        "escalation": {"orders": len(chosen), "escalated": escalated,
                       "rate": rate(escalated, len(chosen))},
        "sla": [{"target": names[k], "eligible": e, "met": m, "rate": rate(m, e)}
                for k, (e, m) in sla.items()],
        "csat": {"count": len(scores),
                 "average": round(sum(scores) / len(scores), 2) if scores else None,
                 "distribution": {str(k): scores.count(k) for k in range(1, 6)}},
    }  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2])
def test_kpis_match_a_python_oracle_on_generated_orders(
    client: ApiClient, factories: Factories, seed: int
) -> None:
    world = factories.tenant()
    admin = client.as_(world.admin_token)
    calendar = admin.post(
        "/v1/business-calendars",
        json={"name": "默认", "time_zone": "Asia/Shanghai", "weekly_hours": WEEKDAYS,
              "holiday_country": "CN"},
    )  # fmt: skip
    assert calendar.status_code == 201, calendar.get_json()
    policy = admin.post(
        "/v1/sla-policies",
        json={"name": "标准", "first_response_minutes": 120, "arrival_minutes": 480,
              "resolution_minutes": 1440},
    )  # fmt: skip
    assert policy.status_code == 201, policy.get_json()
    now = utcnow().replace(microsecond=0)
    used = _generate(factories, world, seed, now)
    intruder = factories.tenant()  # another tenant's orders never count
    factories.work_order(intruder)

    start, end = now - timedelta(days=21), utcnow() + timedelta(minutes=5)  # after the seed
    query = {"from": _text(start), "to": _text(end)}
    office = client.as_(factories.user(world, Role.DISPATCHER)[1])
    got = _steady(office, query, lambda now: _oracle(factories, world, start, end, now))
    assert got["orders"] > 10 and got["first_response"]["business"]["count"] > 0

    narrow = {"team_id": str(used["team"]), "priority": "high,urgent"}
    _steady(office, {**query, **narrow}, lambda now: _oracle(
        factories, world, start, end, now, team=used["team"], priorities=("high", "urgent")
    ))  # fmt: skip
    _steady(office, {**query, "category_id": str(used["category"])}, lambda now: _oracle(
        factories, world, start, end, now, category=used["category"]
    ))  # fmt: skip
    half = now - timedelta(days=10)
    _steady(office, {"from": _text(start), "to": _text(half)}, lambda now: _oracle(
        factories, world, start, half, now
    ))  # fmt: skip
    assert _kpis(client.as_(intruder.admin_token), **query)["orders"] == 1


def _steady(
    office: ApiClient, query: dict[str, str], oracle: Callable[[datetime], dict[str, Any]]
) -> dict[str, Any]:
    """The API's answer, checked against the oracle at the API's own "now": targets that
    fall due while the request runs change the answer, so the oracle is asked just
    before and just after, and a call during which it changed is made again."""
    for _ in range(5):
        before = oracle(utcnow())
        got = _kpis(office, **query)
        if oracle(utcnow()) == before:
            assert got == before
            return got
    raise AssertionError("a target fell due during every one of five calls")


def test_a_small_known_case(client: ApiClient, factories: Factories) -> None:
    scene = factories.scene()
    world = scene.world
    now = utcnow().replace(microsecond=0)
    created = now - timedelta(hours=10)
    orders = [factories.work_order(world, scene.customer, scene.site) for _ in range(3)]
    for order in orders:
        _backdate_creation(factories, order.id, created)
    fast, slow, open_ = orders
    for order, minutes in ((fast, 10), (slow, 30)):
        at = created + timedelta(minutes=minutes)
        _step(factories, world, order.id, "assign", at, assignee_id=scene.technician.id)
        for action in ("accept", "start_travel", "arrive", "start_work"):
            at += timedelta(minutes=10)
            _step(factories, world, order.id, action, at)
        _step(factories, world, order.id, "complete", at + timedelta(hours=1), resolution="好了")
    kpis = _kpis(client.as_(scene.dispatcher_token))
    assert kpis["orders"] == 3 and kpis["cancelled"] == 0
    assert kpis["first_response"] == {
        "count": 2, "median_seconds": 600, "p90_seconds": 1800,
        "business": {"count": 0, "median_seconds": None, "p90_seconds": None},
    }  # fmt: skip
    assert kpis["resolution"]["median_seconds"] == (10 + 40 + 60) * 60
    assert kpis["first_contact_resolution"] == {"resolved": 2, "first_contact": 2, "rate": 1.0}
    assert kpis["escalation"]["rate"] == 0.0
    assert kpis["csat"] == {"count": 0, "average": None,
                            "distribution": {str(k): 0 for k in range(1, 6)}}  # fmt: skip
    assert open_.id  # still new: counted, not resolved


def test_bad_periods_and_callers_are_refused(client: ApiClient, factories: Factories) -> None:
    scene = factories.scene()
    office = client.as_(scene.dispatcher_token)
    now = datetime.now(UTC).replace(microsecond=0)
    backwards = {"from": _text(now), "to": _text(now - timedelta(days=1))}
    problem = assert_problem(
        office.get("/v1/service-desk/kpis", query_string=backwards),
        422,
        "request.validation_failed",
    )
    assert problem["errors"][0]["field"] == "to"
    too_long = {"from": _text(now - timedelta(days=400)), "to": _text(now)}
    assert_problem(
        office.get("/v1/service-desk/kpis", query_string=too_long), 422, "request.validation_failed"
    )
    assert_problem(
        office.get("/v1/service-desk/kpis", query_string={"priority": "whenever"}),
        422,
        "request.validation_failed",
    )
    for token in (scene.technician_token, scene.contact_token):
        assert_problem(client.as_(token).get("/v1/service-desk/kpis"), 403, "auth.forbidden")


def test_business_time_leaves_out_what_the_sla_clocks_paused(
    client: ApiClient, factories: Factories
) -> None:
    """Monday 09:00-12:00 and 13:00-18:00 (Shanghai, no holidays): created 10:00, first
    response 10:30, completed 15:00 (4 business hours); one order waits for the customer
    (``paused``) 11:00-14:00, the other has its clocks paused by the office then: 2 of
    the 4 hours were paused, as for the SLA clocks; wall-clock times are unchanged."""
    scene = factories.scene()
    world, admin = scene.world, client.as_(scene.world.admin_token)
    calendar = admin.post(
        "/v1/business-calendars",
        json={"name": "默认", "time_zone": "Asia/Shanghai", "weekly_hours": WEEKDAYS},
    )
    assert calendar.status_code == 201, calendar.get_json()
    policy = admin.post("/v1/sla-policies", json={"name": "标准", "resolution_minutes": 600})
    assert policy.status_code == 201, policy.get_json()
    today = utcnow().astimezone(SHANGHAI).date()
    monday = today - timedelta(days=today.weekday() + 7)
    at = {h: datetime.combine(monday, time(h), SHANGHAI).astimezone(UTC) for h in range(24)}
    waiting, office_paused = (factories.work_order(world, scene.customer, scene.site)
                              for _ in range(2))  # fmt: skip
    for order in (waiting, office_paused):
        _backdate_creation(factories, order.id, at[10])
        _step(factories, world, order.id, "assign", at[10] + timedelta(minutes=30),
              assignee_id=scene.technician.id)  # fmt: skip
        for action in ("accept", "start_travel", "arrive", "start_work"):
            _step(factories, world, order.id, action, at[11])
    _step(factories, world, waiting.id, "pause", at[11], reason="等客户确认")
    _step(factories, world, waiting.id, "resume", at[14])
    office = client.as_(scene.dispatcher_token)
    pause = admin.post(f"/v1/work-orders/{office_paused.id}/sla/pauses", json={"reason": "等许可"})
    assert pause.status_code == 201, pause.get_json()
    assert admin.post(f"/v1/work-orders/{office_paused.id}/sla/resume", json={}).status_code == 200
    with factories.uow() as uow:  # the office paused it last Monday
        uow.session.execute(
            update(SlaPause).where(SlaPause.work_order_id == office_paused.id)
            .values(started_at=at[11], ended_at=at[14])
        )  # fmt: skip
        uow.commit()
    for order in (waiting, office_paused):
        _step(factories, world, order.id, "complete", at[15], resolution="已修复")

    kpis = _kpis(office)
    assert kpis["orders"] == 2
    assert kpis["resolution"] == {
        "count": 2, "median_seconds": 5 * 3600, "p90_seconds": 5 * 3600,
        "business": {"count": 2, "median_seconds": 2 * 3600, "p90_seconds": 2 * 3600},
    }  # fmt: skip
    assert kpis["first_response"]["business"] == {
        "count": 2, "median_seconds": 1800, "p90_seconds": 1800,
    }  # fmt: skip
