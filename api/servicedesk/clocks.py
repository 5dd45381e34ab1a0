"""An order's SLA due times, computed by the server whenever something they depend on changes.

Called from the one place that writes an order's status history
(:func:`api.workorders.transitions.append_history`: creation, every transition,
REST or sync) and when priority or category change (office edits, policy edits).
The clocks start at the order's creation; they pause while the order is
``paused`` (waiting on the customer or parts) or the office pauses them
explicitly (:mod:`api.servicedesk.pausing`), and resume with it; they stop
when the order is completed, closed or cancelled. The resolution due time is
also written to ``work_orders.sla_due_at``, a server-owned field the devices
already replicate.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import Session

from api.categories.models import Category
from api.customers.models import Customer
from api.db import new_id, utcnow
from api.servicedesk import escalating, marks
from api.servicedesk.calendar import Calendar, NoWorkingTime, from_epoch, to_epoch
from api.servicedesk.escalation_models import SlaPause
from api.servicedesk.models import BusinessCalendar, SlaPolicy, WorkOrderSla
from api.servicedesk.policies import OrderFacts, PolicyCriteria, choose
from api.servicedesk.queries import rules_of
from api.servicedesk.sla import Clock, Pause
from api.workorders.models import StatusChange, WorkOrder
from api.workorders.states import Priority, Status

ROUND_THE_CLOCK = Calendar("UTC", {day: ((0, 1440),) for day in range(7)})
_STOPPED = (Status.COMPLETED, Status.CLOSED, Status.CANCELLED)
_CHUNK = 500  # order ids per IN list, far below either database's bound-parameter limit


def refresh(session: Session, order: WorkOrder) -> None:
    """Recompute and store ``order``'s SLA clocks (no-op for a tenant without policies).

    Reads without autoflush, so ``sla_due_at`` joins the order's own pending
    INSERT or UPDATE (one version step per change, not two).
    """
    # A new order before its INSERT: its defaults now, so the due time goes into the INSERT.
    if order.id is None:
        order.id = new_id()
    if order.created_at is None:
        order.created_at = utcnow()
    with session.no_autoflush:
        _refresh(session, order)


def _refresh(session: Session, order: WorkOrder) -> None:
    policies = list(
        session.scalars(select(SlaPolicy).where(SlaPolicy.tenant_id == order.tenant_id))
    )
    row = session.get(WorkOrderSla, order.id)
    if policies or row is not None:
        _refresh_sla(session, order, policies, row)
    # Escalations read the same clocks; a tenant without escalation rules pays one query.
    escalating.reschedule(session, order)


def _refresh_sla(
    session: Session, order: WorkOrder, policies: list[SlaPolicy], row: WorkOrderSla | None
) -> None:
    policy = _policy_for(session, order, policies)
    if row is None:
        row = WorkOrderSla(tenant_id=order.tenant_id, work_order_id=order.id, state="none")
        # Not before the order's INSERT (no relationship orders the two); the history
        # step that follows creation refreshes again and adds it then.
        if not inspect(order).pending:
            session.add(row)
    row.policy_id = policy.id if policy else None
    row.computed_at = utcnow()
    if policy is None:
        row.state = "none"
        row.first_response_due_at = row.arrival_due_at = row.resolution_due_at = None
        _set_due(order, None)
        return
    pauses = pauses_of(session, order.id)
    clock = Clock(calendar_for(session, order.tenant_id, policy.calendar_id, order.created_at))
    start = math.ceil(order.created_at.timestamp())  # whole seconds, never early
    row.first_response_due_at = _due(clock, start, policy.first_response_minutes, pauses)
    row.arrival_due_at = _due(clock, start, policy.arrival_minutes, pauses)
    row.resolution_due_at = _due(clock, start, policy.resolution_minutes, pauses)
    marks.mark_met(session, order, row)
    if order.status in _STOPPED:
        row.state = "stopped"
    elif order.status is Status.PAUSED or any(end is None for _, end in pauses):
        row.state = "paused"
    else:
        row.state = "running"
    _set_due(order, row.resolution_due_at)


def _set_due(order: WorkOrder, due: datetime | None) -> None:
    if order.sla_due_at != due:  # an unchanged order is not written (nor its version bumped)
        order.sla_due_at = due


def refresh_tenant(session: Session, tenant_id: uuid.UUID) -> int:
    """After a policy change: recompute every unfinished order of the tenant."""
    orders = session.scalars(
        select(WorkOrder).where(WorkOrder.tenant_id == tenant_id, WorkOrder.status.not_in(_STOPPED))
    ).all()
    for order in orders:
        refresh(session, order)
    return len(orders)


def _due(clock: Clock, start: int, minutes: int | None, pauses: list[Pause]) -> datetime | None:
    if minutes is None:
        return None
    try:
        due = clock.due(start, minutes * 60, pauses)
    except NoWorkingTime:
        return None  # a calendar with no working time ahead: no due time, not a crash
    return None if due is None else from_epoch(due)


def _policy_for(session: Session, order: WorkOrder, policies: list[SlaPolicy]) -> SlaPolicy | None:
    path = category_path(session, order.category_id)
    levels = {c.id: c.level for c in path}
    tier = session.scalar(select(Customer.tier).where(Customer.id == order.customer_id))
    facts = OrderFacts(
        # The column default applies at INSERT, which may not have happened yet.
        priority=str(order.priority or Priority.MEDIUM),
        category_path=[c.id for c in path],
        customer_tier=str(tier),
    )
    criteria = [
        PolicyCriteria(
            p.id,
            p.priority,
            p.category_id,
            levels.get(p.category_id, 0) if p.category_id else 0,
            p.customer_tier,
        )
        for p in policies
    ]
    chosen = choose(criteria, facts)
    return next((p for p in policies if p.id == chosen), None)


def category_path(session: Session, category_id: uuid.UUID | None) -> list[Category]:
    path: list[Category] = []
    while category_id is not None and len(path) < 8:
        category = session.get(Category, category_id)
        if category is None:
            break
        path.insert(0, category)
        category_id = category.parent_id
    return path


def calendar_for(
    session: Session, tenant_id: uuid.UUID, calendar_id: uuid.UUID | None, created: datetime
) -> Calendar:
    row = session.scalars(
        select(BusinessCalendar).where(
            BusinessCalendar.tenant_id == tenant_id,
            BusinessCalendar.id == calendar_id
            if calendar_id
            else BusinessCalendar.team_id.is_(None),
        )
    ).one_or_none()
    if row is None:
        return ROUND_THE_CLOCK
    return rules_of(session, row, range(created.year, created.year + 3))


def pauses_of(session: Session, order_id: uuid.UUID) -> list[Pause]:
    """When the clocks stood still: the ``paused`` status and the explicit pauses."""
    return [*_status_pauses(session, order_id), *explicit_pauses(session, order_id)]


def explicit_pauses(session: Session, order_id: uuid.UUID) -> list[Pause]:
    """The office's explicit pauses (open while not resumed), pending ones included."""
    rows = {
        p.id: p for p in session.scalars(select(SlaPause).where(SlaPause.work_order_id == order_id))
    }
    rows.update(
        {p.id: p for p in session.new if isinstance(p, SlaPause) and p.work_order_id == order_id}
    )
    return [
        (to_epoch(p.started_at), None if p.ended_at is None else to_epoch(p.ended_at))
        for p in rows.values()
    ]


def _status_pauses(session: Session, order_id: uuid.UUID) -> list[Pause]:
    """Intervals spent in ``paused``, from the status history (open while still paused)."""
    changes = session.scalars(
        select(StatusChange).where(
            StatusChange.work_order_id == order_id,
            or_(StatusChange.to_status == Status.PAUSED, StatusChange.from_status == Status.PAUSED),
        )
    ).all()
    # The step being recorded right now is still pending (no autoflush).
    pending = [
        c
        for c in session.new
        if isinstance(c, StatusChange)
        and c.work_order_id == order_id
        and Status.PAUSED in (c.to_status, c.from_status)
    ]
    return _status_intervals([*changes, *pending])


def stored_pauses(
    session: Session, tenant_id: uuid.UUID, order_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[Pause]]:
    """:func:`pauses_of` for many committed orders at once (the KPIs' paused orders)."""
    found: dict[uuid.UUID, list[Pause]] = {order_id: [] for order_id in order_ids}
    ids = list(found)
    for first in range(0, len(ids), _CHUNK):
        chunk = ids[first : first + _CHUNK]
        changes: dict[uuid.UUID, list[Any]] = {}
        for change in session.execute(  # columns, not entities: thousands of rows
            select(
                StatusChange.work_order_id,
                StatusChange.occurred_at,
                StatusChange.recorded_at,
                StatusChange.to_status,
                StatusChange.from_status,
            ).where(
                StatusChange.tenant_id == tenant_id,
                StatusChange.work_order_id.in_(chunk),
                or_(
                    StatusChange.to_status == Status.PAUSED,
                    StatusChange.from_status == Status.PAUSED,
                ),
            )
        ):
            changes.setdefault(change.work_order_id, []).append(change)
        for order_id, steps in changes.items():
            found[order_id] += _status_intervals(steps)
        for pause in session.execute(
            select(SlaPause.work_order_id, SlaPause.started_at, SlaPause.ended_at).where(
                SlaPause.tenant_id == tenant_id, SlaPause.work_order_id.in_(chunk)
            )
        ):
            end = None if pause.ended_at is None else to_epoch(pause.ended_at)
            found[pause.work_order_id].append((to_epoch(pause.started_at), end))
    return found


def _status_intervals(changes: Sequence[Any]) -> list[Pause]:
    """Fold one order's steps into or out of ``paused`` (status changes, or rows with
    their ``occurred_at``, ``recorded_at``, ``to_status``, ``from_status``) into intervals."""
    pauses: list[Pause] = []
    opened: int | None = None
    ordered = sorted(changes, key=lambda c: (c.occurred_at, c.recorded_at))
    for change in ordered:
        if change.to_status is Status.PAUSED and opened is None:
            opened = to_epoch(change.occurred_at)
        elif change.from_status is Status.PAUSED and opened is not None:
            pauses.append((opened, to_epoch(change.occurred_at)))
            opened = None
    if opened is not None:
        pauses.append((opened, None))
    return pauses
