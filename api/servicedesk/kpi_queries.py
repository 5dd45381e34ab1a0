"""Service desk KPIs for dispatchers and admins, computed by the database in aggregates.

One filtered set of orders (created in ``[start, end)``, optionally of a team,
a category and what lies below it, some priorities; cancelled orders are only
counted, since a duplicate merged away or a request withdrawn says nothing of
the service) and, over it:

- **first-contact resolution**: of the resolved orders (completed or closed),
  the share resolved in one visit (at most one ``arrive``) and never reopened;
- **first response** (the first ``assign`` or ``accept``, as the SLA marks it)
  and **resolution** (``completed_at``) times from the order's creation step:
  median and 90th percentile (nearest rank: the value at rank ⌈p·n⌉), in wall
  seconds, and in business seconds for orders whose SLA policy has a calendar or
  whose tenant has a default one (:mod:`api.servicedesk.kpi_business`);
- **escalation rate**: the share of orders with at least one escalation fired;
- **SLA attainment** per target (first response, arrival, resolution): of the
  orders with a due time that is met or already past, those met on time (the
  marks the SLA clocks recorded; resolution: completed by its due time);
- **CSAT**: count, average and the distribution of the 1-5 ratings.

Times become whole epoch seconds in SQL (``strftime('%s')`` on SQLite,
``floor(extract(epoch))`` on PostgreSQL), percentiles come from window
functions and integer arithmetic, rates and the average from integer sums:
both databases give the same numbers, which a test checks against a Python
oracle on generated data. This module builds the per-order facts;
:mod:`api.servicedesk.kpi_figures` aggregates them and shapes the answer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    and_,
    case,
    cast,
    exists,
    extract,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.categories.queries import category_and_below
from api.db import utcnow
from api.servicedesk import kpi_business, kpi_pauses
from api.servicedesk.escalation_models import Escalation, SlaPause
from api.servicedesk.kpi_figures import shape, times, totals
from api.servicedesk.marks import ARRIVAL_ACTIONS, FIRST_RESPONSE_ACTIONS
from api.servicedesk.models import BusinessCalendar, SlaPolicy, WorkOrderSla
from api.technicians.models import Technician
from api.tracking.models import WorkOrderRating
from api.workorders.models import StatusChange, WorkOrder
from api.workorders.states import Priority, Status


@dataclass(frozen=True)
class KpiFilter:
    start: datetime
    end: datetime
    team_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None
    priority: tuple[Priority, ...] = ()


def service_desk_kpis(
    session: Session, actor: Actor, where: KpiFilter, now: datetime | None = None
) -> dict[str, Any]:
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    default_calendar = session.scalar(
        select(BusinessCalendar.id).where(
            BusinessCalendar.tenant_id == actor.tenant_id, BusinessCalendar.team_id.is_(None)
        )
    )
    calendars = {
        calendar_id
        for calendar_id in session.scalars(
            select(SlaPolicy.calendar_id).where(SlaPolicy.tenant_id == actor.tenant_id)
        )
        if calendar_id is not None
    } | ({default_calendar} if default_calendar else set())
    table = None
    if calendars:
        first = (where.start - timedelta(days=2)).date()
        table = kpi_business.day_table(
            session, actor.tenant_id, calendars, first, int(now.timestamp()) + 86400
        )
    # Materialised, so what each order's row needs is computed once per statement.
    paused = None
    if table is not None:
        paused_facts = _paused(
            _facts(actor, where, now, dialect, default_calendar, table, paused=True)
        )
        paused = kpi_pauses.paused_business(
            session,
            actor.tenant_id,
            session.execute(paused_facts).all(),
            {number: calendar_id for calendar_id, number in table.numbers.items()},
        )
    base = _facts(actor, where, now, dialect, default_calendar, table).cte("base")
    base = base.prefix_with("MATERIALIZED")
    facts = _with_business(base, table).cte("facts").prefix_with("MATERIALIZED")
    row = session.execute(select(*totals(facts), *times(facts, paused))).one()._mapping
    cancelled = session.scalar(
        select(func.count()).select_from(_scoped(actor, where, cancelled=True).subquery())
    )
    return shape(where.start, where.end, row, cancelled or 0)


def _with_business(base: Any, table: kpi_business.DayTable | None) -> Select[Any]:
    """``base`` plus business seconds to first response and to resolution, where the
    order has a calendar: each instant joined to its calendar's UTC day row. Not for an
    order whose clocks were ever paused: the SLA clocks give its figures
    (:func:`api.servicedesk.kpi_figures.times`)."""
    if table is None:
        return select(base)
    c = base.c
    joined = base
    days = {}
    for name in ("created_s", "first_response_s", "completed_s"):
        days[name] = table.cte.alias(f"day_of_{name}")
        joined = joined.outerjoin(
            days[name],
            and_(
                days[name].c.calendar_no == c.calendar_no,
                days[name].c.day == kpi_business.utc_day(c[name]),
            ),
        )

    def between(end: str) -> Any:
        span = kpi_business.worked(table, days[end], c[end]) - kpi_business.worked(
            table, days["created_s"], c.created_s
        )
        known = and_(days[end].c.day.is_not(None), days["created_s"].c.day.is_not(None))
        return case((and_(known, c.ever_paused == 0), span))

    return select(
        base,
        between("first_response_s").label("first_response_business"),
        between("completed_s").label("resolution_business"),
    ).select_from(joined)


def _epoch(dialect: str, value: Any) -> Any:
    if dialect == "sqlite":
        return cast(func.strftime("%s", value), BigInteger)
    return cast(func.floor(extract("epoch", value)), BigInteger)


def _scoped(
    actor: Actor, where: KpiFilter, *, cancelled: bool = True, paused: bool = False
) -> Select[Any]:
    """Ids of the filtered orders (``cancelled``: the cancelled ones, else the others;
    ``paused``: only those whose clocks ever stood still, see ``ever_paused``)."""
    stmt = select(WorkOrder.id).where(
        WorkOrder.tenant_id == actor.tenant_id,
        WorkOrder.created_at >= where.start,
        WorkOrder.created_at < where.end,
        (WorkOrder.status == Status.CANCELLED)
        if cancelled
        else (WorkOrder.status != Status.CANCELLED),
    )
    if paused:
        stmt = stmt.where(
            or_(
                WorkOrder.id.in_(
                    select(StatusChange.work_order_id).where(
                        StatusChange.tenant_id == actor.tenant_id,
                        StatusChange.to_status == Status.PAUSED,
                    )
                ),
                WorkOrder.id.in_(
                    select(SlaPause.work_order_id).where(SlaPause.tenant_id == actor.tenant_id)
                ),
            )
        )
    if where.priority:
        stmt = stmt.where(WorkOrder.priority.in_(where.priority))
    if where.category_id is not None:
        stmt = stmt.where(
            WorkOrder.category_id.in_(category_and_below(actor.tenant_id, where.category_id))
        )
    if where.team_id is not None:
        stmt = stmt.where(
            WorkOrder.assignee_id.in_(
                select(Technician.id).where(
                    Technician.tenant_id == actor.tenant_id, Technician.team_id == where.team_id
                )
            )
        )
    return stmt


def _history(actor: Actor, where: KpiFilter, paused: bool) -> Any:
    """Per order, in one pass over the status history: creation, first response, visits,
    reopens."""
    at, action = StatusChange.occurred_at, StatusChange.action
    return (
        select(
            StatusChange.work_order_id.label("work_order_id"),
            func.min(case((action == "create", at))).label("created_at"),
            func.min(case((action.in_(FIRST_RESPONSE_ACTIONS), at))).label("responded_at"),
            func.sum(case((action.in_(ARRIVAL_ACTIONS), 1), else_=0)).label("arrivals"),
            func.sum(case((action == "reopen", 1), else_=0)).label("reopens"),
            func.max(case((StatusChange.to_status == Status.PAUSED, 1), else_=0)).label("paused"),
        )
        .where(
            StatusChange.tenant_id == actor.tenant_id,
            StatusChange.work_order_id.in_(_scoped(actor, where, cancelled=False, paused=paused)),
        )
        .group_by(StatusChange.work_order_id)
        .subquery("history")
    )


def _facts(
    actor: Actor,
    where: KpiFilter,
    now: datetime,
    dialect: str,
    default_calendar: uuid.UUID | None,
    table: kpi_business.DayTable | None,
    *,
    paused: bool = False,
) -> Select[Any]:
    """One row per (not cancelled) order: the epochs and 0/1 flags the aggregates read
    (``paused``: only of the orders whose clocks ever stood still)."""
    history = _history(actor, where, paused)
    created = _epoch(dialect, func.coalesce(history.c.created_at, WorkOrder.created_at))
    responded = _epoch(dialect, history.c.responded_at)
    completed = _epoch(dialect, WorkOrder.completed_at)
    calendar = func.coalesce(SlaPolicy.calendar_id, default_calendar)
    calendar_no = (
        kpi_business.calendar_number(table, calendar)
        if table is not None
        else literal(None, BigInteger())
    )
    sla = WorkOrderSla
    flags = {
        "fr_eligible": and_(
            sla.first_response_due_at.is_not(None),
            or_(sla.first_response_met_at.is_not(None), sla.first_response_due_at < now),
        ),
        "fr_met": and_(
            sla.first_response_met_at.is_not(None), sla.first_response_breached.is_(False)
        ),
        "arr_eligible": and_(
            sla.arrival_due_at.is_not(None),
            or_(sla.arrival_met_at.is_not(None), sla.arrival_due_at < now),
        ),
        "arr_met": and_(sla.arrival_met_at.is_not(None), sla.arrival_breached.is_(False)),
        "res_eligible": and_(
            sla.resolution_due_at.is_not(None),
            or_(WorkOrder.completed_at.is_not(None), sla.resolution_due_at < now),
        ),
        "res_met": and_(
            WorkOrder.completed_at.is_not(None),
            sla.resolution_due_at.is_not(None),
            WorkOrder.completed_at <= sla.resolution_due_at,
        ),
        "escalated": exists().where(Escalation.work_order_id == WorkOrder.id),
    }
    columns = [
        WorkOrder.id.label("work_order_id"),
        created.label("created_s"),
        responded.label("first_response_s"),
        completed.label("completed_s"),
        func.coalesce(history.c.arrivals, 0).label("arrivals"),
        func.coalesce(history.c.reopens, 0).label("reopens"),
        # The clocks stood still once: the ``paused`` status, or the office's pause.
        case(
            (history.c.paused == 1, 1),
            (exists().where(SlaPause.work_order_id == WorkOrder.id), 1),
            else_=0,
        ).label("ever_paused"),
        calendar_no.label("calendar_no"),
        WorkOrderRating.score.label("score"),
        *(case((test, 1), else_=0).label(name) for name, test in flags.items()),
    ]
    return (
        select(*columns)
        .select_from(WorkOrder)
        .outerjoin(history, history.c.work_order_id == WorkOrder.id)
        .outerjoin(sla, sla.work_order_id == WorkOrder.id)
        .outerjoin(SlaPolicy, SlaPolicy.id == sla.policy_id)
        .outerjoin(WorkOrderRating, WorkOrderRating.work_order_id == WorkOrder.id)
        .where(WorkOrder.id.in_(_scoped(actor, where, cancelled=False, paused=paused)))
    )


def _paused(facts: Select[Any]) -> Select[Any]:
    """What :func:`api.servicedesk.kpi_pauses.paused_business` reads, of the orders with a
    calendar whose SLA clocks ever stood still (the ``paused`` status, the office's pause)."""
    c = facts.subquery("paused_facts").c
    return select(
        c.work_order_id, c.created_s, c.first_response_s, c.completed_s, c.calendar_no
    ).where(c.ever_paused == 1, c.calendar_no.is_not(None))
