"""First response and arrival "met" marks: set once, by the step that met them, never overridden.

Help desks have lost first-response times to later updates; here a mark is
written by the status step being recorded (REST or synced, at the step's
*occurred* time: an arrival a phone recorded offline counts when it happened)
and then never changes, not by a later step, a reopen or a policy edit.
``breached`` says whether that time was past the due time the order had then.

First response: the first ``assign`` or ``accept`` (someone has the job; the
customer is told). Arrival: the first ``arrive``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from api.servicedesk.models import WorkOrderSla
from api.workorders.models import StatusChange, WorkOrder

FIRST_RESPONSE_ACTIONS = frozenset({"assign", "accept"})
ARRIVAL_ACTIONS = frozenset({"arrive"})


def mark_met(session: Session, order: WorkOrder, row: WorkOrderSla) -> None:
    """Set the marks the step now being recorded (still pending) meets, if not set before."""
    steps = sorted(
        (c for c in session.new if isinstance(c, StatusChange) and c.work_order_id == order.id),
        key=lambda c: c.occurred_at,
    )
    for step in steps:
        if step.action in FIRST_RESPONSE_ACTIONS and row.first_response_met_at is None:
            row.first_response_met_at = step.occurred_at
            row.first_response_met_by = step.action
            row.first_response_breached = _late(step.occurred_at, row.first_response_due_at)
        if step.action in ARRIVAL_ACTIONS and row.arrival_met_at is None:
            row.arrival_met_at = step.occurred_at
            row.arrival_met_by = step.action
            row.arrival_breached = _late(step.occurred_at, row.arrival_due_at)


def met_targets(row: WorkOrderSla | None) -> frozenset[str]:
    """The SLA targets an order has met (the resolution is met by completing it)."""
    if row is None:
        return frozenset()
    met = set()
    if row.first_response_met_at is not None:
        met.add("first_response")
    if row.arrival_met_at is not None:
        met.add("arrival")
    return frozenset(met)


def _late(at: datetime, due: datetime | None) -> bool:
    return due is not None and at > due
