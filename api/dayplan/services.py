"""Planning a tenant's day with :mod:`dispatch.dayplan`, and applying a plan.

What is planned: open orders (``new``, ``assigned``, ``accepted``) at sites with a
position, scheduled on that day or not scheduled at all; their service time is
their scheduled length (default an hour), their window the customer's requested
window within the day. What plans them: active technicians with working hours on
that weekday, starting from a fresh fix (under 30 minutes old, for today) or
their home base; the gap between two working intervals is their break. Orders
a technician has accepted stay with them; ``pinned`` orders also keep their
scheduled time. Everything left out is reported with the reason.

Applying is one unit of work: each visit assigns the order (an ordinary
``assign`` transition when the technician changes) and sets its schedule; any
refusal (a stale version, an inactive technician, a finished order) applies
nothing.
"""

from __future__ import annotations

import itertools
import uuid
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.audit.changes import apply_changes
from api.auth.actor import Actor
from api.categories import skills
from api.dayplan import errors
from api.db import UnitOfWork, utcnow
from api.db.checks import check_version
from api.location.models import CurrentLocation
from api.sites.models import Site
from api.sync import clock as sync_clock
from api.technicians.models import Technician
from api.tenants.models import Tenant
from api.workorders import queries, rules
from api.workorders.errors import WorkOrderLocked
from api.workorders.models import WorkOrder
from api.workorders.rules import Action
from api.workorders.services import STAMPED
from api.workorders.stamps import party_of_actor, stamp_fields
from api.workorders.states import Status
from api.workorders.transitions import carry_out
from dispatch import dayplan
from dispatch.shifts import WEEKDAYS

OPEN = (Status.NEW, Status.ASSIGNED, Status.ACCEPTED)
DEFAULT_DURATION = timedelta(hours=1)
FRESH_FIX = timedelta(minutes=30)
MAX_TIME_LIMIT_S = 10.0
_SCHEDULE = frozenset({"scheduled_start", "scheduled_end"})


@dataclass
class DayPlan:
    day: date
    day_start: datetime
    plan: dayplan.Plan
    greedy_travel_s: int
    left_out: list[tuple[uuid.UUID, str]] = field(default_factory=list)  # order, why
    idle: list[tuple[uuid.UUID, str]] = field(default_factory=list)  # technician, why
    durations: dict[str, int] = field(default_factory=dict)


def plan_day(
    uow: UnitOfWork,
    actor: Actor,
    day: date,
    *,
    pinned: Sequence[uuid.UUID] = (),
    time_limit_s: float = 5.0,
) -> DayPlan:
    if not actor.is_office:
        raise errors.OfficeOnly()
    with uow:
        session = uow.session
        tenant = session.get(Tenant, actor.tenant_id)
        assert tenant is not None
        zone = zoneinfo.ZoneInfo(tenant.timezone)
        start = datetime.combine(day, time(0), zone)
        result = DayPlan(day, start, dayplan.Plan({}, [], 0), 0)
        technicians = _technicians(session, actor, day, start, result)
        jobs = _jobs(session, actor, start, set(pinned), result)
    try:
        result.plan = dayplan.optimise(
            technicians, jobs, time_limit_s=min(time_limit_s, MAX_TIME_LIMIT_S)
        )
    except dayplan.InfeasiblePlan as error:
        raise errors.PinsDoNotFit(str(error)) from None
    result.greedy_travel_s = dayplan.greedy(technicians, jobs).travel_s
    result.durations = {job.id: job.duration_s for job in jobs}
    return result


def _technicians(
    session: Session, actor: Actor, day: date, start: datetime, result: DayPlan
) -> list[dayplan.Technician]:
    fixes = {
        row.technician_id: row
        for row in session.scalars(
            select(CurrentLocation).where(CurrentLocation.tenant_id == actor.tenant_id)
        )
    }
    weekday = WEEKDAYS[day.weekday()]
    planned = []
    for tech in session.scalars(
        select(Technician).where(Technician.tenant_id == actor.tenant_id, Technician.active)
    ):
        hours = sorted((tech.working_hours or {}).get(weekday, []))
        fix = fixes.get(tech.id)
        if fix is not None and utcnow() - fix.fixed_at <= FRESH_FIX:
            position = (fix.lat, fix.lon)
        elif tech.home_lat is not None and tech.home_lon is not None:
            position = (tech.home_lat, tech.home_lon)
        else:
            result.idle.append((tech.id, "no position: no fresh fix and no home base"))
            continue
        if not hours:
            result.idle.append((tech.id, "no working hours that day"))
            continue
        local = zoneinfo.ZoneInfo(tech.timezone)
        seconds = [
            (_offset(start, day, first, local), _offset(start, day, last, local))
            for first, last in hours
        ]
        # Today, a shift starts no earlier than now (and breaks already over are gone).
        shift_start = max(seconds[0][0], int((utcnow() - start).total_seconds()))
        if shift_start >= seconds[-1][1]:
            result.idle.append((tech.id, "the shift is over"))
            continue
        breaks = tuple(
            dayplan.Break(end, end, next_start - end)
            for (_, end), (next_start, _) in itertools.pairwise(seconds)
            if end >= shift_start
        )
        planned.append(
            dayplan.Technician(
                str(tech.id),
                *position,
                (shift_start, seconds[-1][1]),
                {skill.skill: skill.level for skill in tech.skills},
                breaks,
            )
        )
    return planned


def _jobs(
    session: Session, actor: Actor, start: datetime, pinned: set[uuid.UUID], result: DayPlan
) -> list[dayplan.Job]:
    end = start + timedelta(days=1)
    rows = session.execute(
        select(WorkOrder, Site.lat, Site.lon)
        .join(Site, Site.id == WorkOrder.site_id)
        .where(
            WorkOrder.tenant_id == actor.tenant_id,
            WorkOrder.status.in_(OPEN),
            (WorkOrder.scheduled_start.is_(None))
            | ((WorkOrder.scheduled_start >= start) & (WorkOrder.scheduled_start < end)),
        )
        .order_by(WorkOrder.number)
    ).all()
    jobs = []
    for order, lat, lon in rows:
        if lat is None or lon is None:
            result.left_out.append((order.id, "the site has no position"))
            continue
        duration = DEFAULT_DURATION
        if order.scheduled_start and order.scheduled_end:
            duration = order.scheduled_end - order.scheduled_start
        window = (
            _clamp(start, order.requested_start, 0),
            _clamp(start, order.requested_end, 24 * 3600),
        )
        keep = order.id in pinned and order.assignee_id is not None
        at = _clamp(start, order.scheduled_start, 0) if keep and order.scheduled_start else None
        held = order.status is Status.ACCEPTED or keep
        jobs.append(
            dayplan.Job(
                str(order.id),
                lat,
                lon,
                int(duration.total_seconds()),
                window,
                # Only technicians with the skills its category and the order ask for.
                skills=skills.order_requirements(session, order.category_id, order.required_skills),
                pinned_to=str(order.assignee_id) if held and order.assignee_id else None,
                pinned_at=at,
            )
        )
    return jobs


def apply_plan(
    uow: UnitOfWork, actor: Actor, visits: Sequence[Mapping[str, Any]]
) -> list[queries.WorkOrderView]:
    """Assign and schedule every visit, all or nothing."""
    if not actor.is_office:
        raise errors.OfficeOnly()
    with uow:
        session = uow.session
        orders = []
        for visit in visits:
            order = queries.access_work_order(
                session, actor, visit["work_order_id"], for_update=True
            )
            if visit.get("version") is not None:
                check_version(order, visit["version"])
            if order.status not in OPEN:
                raise WorkOrderLocked(f"{order.number} is {order.status.value}")
            if order.assignee_id != visit["technician_id"] or order.status is Status.NEW:
                plan = rules.plan_transition(
                    order.status,
                    Action.ASSIGN,
                    actor.role,
                    is_assignee=False,
                    has_assignee=order.assignee_id is not None,
                )
                command = {"action": "assign", "assignee_id": visit["technician_id"]}
                carry_out(session, actor, order, plan, command, sync_clock.now())
            schedule = {
                "scheduled_start": visit["scheduled_start"],
                "scheduled_end": visit["scheduled_end"],
            }
            diff = apply_changes(order, schedule, _SCHEDULE)
            if diff:
                stamp_fields(
                    order, sorted(diff.keys() & STAMPED), sync_clock.now(), party_of_actor(actor)
                )
                audit.record(session, actor, "update", "work_order", order.id, diff)
            orders.append(order)
        views = queries.present(session, actor, orders)
        uow.commit()
        return views


def _offset(start: datetime, day: date, clock: str, zone: zoneinfo.ZoneInfo) -> int:
    hours, minutes = (int(part) for part in clock.split(":"))
    local = datetime.combine(day, time(0), zone) + timedelta(hours=hours, minutes=minutes)
    return int((local - start).total_seconds())


def _clamp(start: datetime, moment: datetime | None, default: int) -> int:
    if moment is None:
        return default
    return max(0, min(24 * 3600, int((moment - start).total_seconds())))
