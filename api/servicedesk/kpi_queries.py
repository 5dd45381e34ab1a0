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
oracle on generated data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Select, and_, case, cast, exists, extract, func, or_, select
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.categories.models import Category
from api.db import utcnow
from api.servicedesk import kpi_business
from api.servicedesk.escalation_models import Escalation
from api.servicedesk.marks import ARRIVAL_ACTIONS, FIRST_RESPONSE_ACTIONS
from api.servicedesk.models import BusinessCalendar, SlaPolicy, WorkOrderSla
from api.technicians.models import Technician
from api.tracking.models import WorkOrderRating
from api.workorders.models import StatusChange, WorkOrder
from api.workorders.states import Priority, Status

SCORES = (1, 2, 3, 4, 5)
PERCENTILES = {"median": 50, "p90": 90}
TARGETS = ("first_response", "arrival", "resolution")


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
    plain = _facts(actor, where, now, dialect, default_calendar).cte("facts")
    reach = session.execute(
        select(
            func.max(func.coalesce(plain.c.completed_s, plain.c.first_response_s)),
        ).where(plain.c.calendar_id.is_not(None))
    ).scalar()
    calendars = set(
        session.scalars(
            select(plain.c.calendar_id).where(plain.c.calendar_id.is_not(None)).distinct()
        )
    )
    intervals = None
    if calendars and reach is not None:
        first = (where.start - timedelta(days=2)).date()
        intervals = kpi_business.intervals_table(
            session, actor.tenant_id, calendars, first, int(reach) + 86400
        )
    facts = _facts(actor, where, now, dialect, default_calendar, intervals).cte("facts")
    totals = session.execute(_totals(facts)).one()._mapping
    cancelled = session.scalar(
        select(func.count()).select_from(_scoped(actor, where, cancelled=True).subquery())
    )
    return _shape(where, totals, cancelled or 0, _times(session, facts))


def _epoch(dialect: str, value: Any) -> Any:
    if dialect == "sqlite":
        return cast(func.strftime("%s", value), BigInteger)
    return cast(func.floor(extract("epoch", value)), BigInteger)


def _scoped(actor: Actor, where: KpiFilter, *, cancelled: bool = True) -> Select[Any]:
    """Ids of the filtered orders (``cancelled``: the cancelled ones, else the others)."""
    stmt = select(WorkOrder.id).where(
        WorkOrder.tenant_id == actor.tenant_id,
        WorkOrder.created_at >= where.start,
        WorkOrder.created_at < where.end,
        (WorkOrder.status == Status.CANCELLED)
        if cancelled
        else (WorkOrder.status != Status.CANCELLED),
    )
    if where.priority:
        stmt = stmt.where(WorkOrder.priority.in_(where.priority))
    if where.category_id is not None:
        stmt = stmt.where(WorkOrder.category_id.in_(_category_and_below(actor, where.category_id)))
    if where.team_id is not None:
        stmt = stmt.where(
            WorkOrder.assignee_id.in_(
                select(Technician.id).where(
                    Technician.tenant_id == actor.tenant_id, Technician.team_id == where.team_id
                )
            )
        )
    return stmt


def _step(action_names: frozenset[str] | tuple[str, ...], aggregate: Any) -> Any:
    return (
        select(aggregate)
        .where(StatusChange.work_order_id == WorkOrder.id, StatusChange.action.in_(action_names))
        .correlate(WorkOrder)  # also when nested in a business-time lookup
        .scalar_subquery()
    )


def _facts(
    actor: Actor,
    where: KpiFilter,
    now: datetime,
    dialect: str,
    default_calendar: uuid.UUID | None,
    intervals: Any = None,
) -> Select[Any]:
    """One row per (not cancelled) order: the epochs and 0/1 flags the aggregates read."""
    created = _epoch(
        dialect,
        func.coalesce(_step(("create",), func.min(StatusChange.occurred_at)), WorkOrder.created_at),
    )
    responded = _epoch(dialect, _step(FIRST_RESPONSE_ACTIONS, func.min(StatusChange.occurred_at)))
    completed = _epoch(dialect, WorkOrder.completed_at)
    calendar = func.coalesce(SlaPolicy.calendar_id, default_calendar)
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
        created.label("created_s"),
        responded.label("first_response_s"),
        completed.label("completed_s"),
        _step(ARRIVAL_ACTIONS, func.count()).label("arrivals"),
        _step(("reopen",), func.count()).label("reopens"),
        calendar.label("calendar_id"),
        WorkOrderRating.score.label("score"),
        *(case((test, 1), else_=0).label(name) for name, test in flags.items()),
    ]
    if intervals is not None:
        columns += [
            (
                kpi_business.worked(intervals, calendar, responded)
                - kpi_business.worked(intervals, calendar, created)
            ).label("first_response_business"),
            (
                kpi_business.worked(intervals, calendar, completed)
                - kpi_business.worked(intervals, calendar, created)
            ).label("resolution_business"),
        ]
    return (
        select(*columns)
        .select_from(WorkOrder)
        .outerjoin(sla, sla.work_order_id == WorkOrder.id)
        .outerjoin(SlaPolicy, SlaPolicy.id == sla.policy_id)
        .outerjoin(WorkOrderRating, WorkOrderRating.work_order_id == WorkOrder.id)
        .where(WorkOrder.id.in_(_scoped(actor, where, cancelled=False)))
    )


def _totals(facts: Any) -> Select[Any]:
    c = facts.c
    resolved = c.completed_s.is_not(None)
    return select(
        func.count().label("orders"),
        func.coalesce(func.sum(case((resolved, 1), else_=0)), 0).label("resolved"),
        func.coalesce(
            func.sum(case((and_(resolved, c.reopens == 0, c.arrivals <= 1), 1), else_=0)), 0
        ).label("first_contact"),
        *(
            func.coalesce(func.sum(getattr(c, name)), 0).label(name)
            for name in (
                "escalated",
                "fr_eligible",
                "fr_met",
                "arr_eligible",
                "arr_met",
                "res_eligible",
                "res_met",
            )
        ),
        func.count(c.score).label("ratings"),
        func.coalesce(func.sum(c.score), 0).label("score_sum"),
        *(
            func.coalesce(func.sum(case((c.score == k, 1), else_=0)), 0).label(f"score_{k}")
            for k in SCORES
        ),
    )


def _durations(facts: Any) -> dict[str, Any]:
    c = facts.c
    found = {
        "first_response": c.first_response_s - c.created_s,
        "resolution": c.completed_s - c.created_s,
    }
    if "first_response_business" in c:
        found["first_response_business"] = case(
            (c.first_response_s.is_not(None), c.first_response_business)
        )
        found["resolution_business"] = case((c.completed_s.is_not(None), c.resolution_business))
    return found


def _times(session: Session, facts: Any) -> dict[str, dict[str, int | None]]:
    """Median and p90 (nearest rank) of each duration, and how many orders have one."""
    out: dict[str, dict[str, int | None]] = {}
    for name, duration in _durations(facts).items():
        measured = duration.is_not(None)
        if name.endswith("_business"):
            measured = and_(measured, facts.c.calendar_id.is_not(None))
        ranked = (
            select(
                duration.label("d"),
                func.row_number().over(order_by=duration).label("rn"),
                func.count().over().label("n"),
            )
            .where(measured)
            .subquery()
        )
        picks = [
            func.max(case((ranked.c.rn == (ranked.c.n * p + 99) // 100, ranked.c.d))).label(key)
            for key, p in PERCENTILES.items()
        ]
        row = session.execute(select(func.count(), *picks).select_from(ranked)).one()
        picked = dict(zip(PERCENTILES, row[1:], strict=True))
        out[name] = {"count": row[0], **{k: _int(v) for k, v in picked.items()}}
    return out


def _shape(
    where: KpiFilter, t: Any, cancelled: int, times: dict[str, dict[str, int | None]]
) -> dict[str, Any]:
    def rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    def timing(name: str) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "count": times[name]["count"],
            "median_seconds": times[name]["median"],
            "p90_seconds": times[name]["p90"],
        }
        business = times.get(f"{name}_business", {"count": 0, "median": None, "p90": None})
        shown["business"] = {
            "count": business["count"],
            "median_seconds": business["median"],
            "p90_seconds": business["p90"],
        }
        return shown

    prefixes = {"first_response": "fr", "arrival": "arr", "resolution": "res"}
    return {
        "start": where.start,
        "end": where.end,
        "orders": t["orders"],
        "cancelled": cancelled,
        "first_contact_resolution": {
            "resolved": t["resolved"],
            "first_contact": t["first_contact"],
            "rate": rate(t["first_contact"], t["resolved"]),
        },
        "first_response": timing("first_response"),
        "resolution": timing("resolution"),
        "escalation": {
            "orders": t["orders"],
            "escalated": t["escalated"],
            "rate": rate(t["escalated"], t["orders"]),
        },
        "sla": [
            {
                "target": target,
                "eligible": t[f"{prefixes[target]}_eligible"],
                "met": t[f"{prefixes[target]}_met"],
                "rate": rate(t[f"{prefixes[target]}_met"], t[f"{prefixes[target]}_eligible"]),
            }
            for target in TARGETS
        ],
        "csat": {
            "count": t["ratings"],
            "average": round(t["score_sum"] / t["ratings"], 2) if t["ratings"] else None,
            "distribution": {str(k): t[f"score_{k}"] for k in SCORES},
        },
    }


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _category_and_below(actor: Actor, category_id: uuid.UUID) -> Any:
    children = select(Category.id).where(
        Category.tenant_id == actor.tenant_id, Category.parent_id == category_id
    )
    return select(Category.id).where(
        Category.tenant_id == actor.tenant_id,
        or_(
            Category.id == category_id,
            Category.parent_id == category_id,
            Category.parent_id.in_(children),
        ),
    )
