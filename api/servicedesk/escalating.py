"""When an order is next looked at for escalation: planned whenever something rules read changes.

:func:`reschedule` runs inside every SLA refresh (:mod:`api.servicedesk.clocks`:
creation, each status step REST or synced, priority/category/complaint/amount
edits, explicit pauses, policy edits) and after each sweep of the order. It
writes the earliest due time of the rules that may still fire into
``escalation_checks`` (or removes the row), so the worker's sweep is one index
range scan instead of a pass over every open order. A paused or finished order
has no row: nothing fires while the clocks stand still, and what came due
before a pause fires when it resumes.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from api.servicedesk import clocks, marks
from api.servicedesk.calendar import from_epoch, to_epoch
from api.servicedesk.escalation_models import Escalation, EscalationCheck, EscalationRule
from api.servicedesk.escalation_rules import Rule, Timing, upcoming
from api.servicedesk.models import SlaPolicy, WorkOrderSla
from api.servicedesk.prioritising import facts_for
from api.servicedesk.sla import Clock
from api.workorders.models import StatusChange, WorkOrder
from api.workorders.states import Status

STOPPED = (Status.COMPLETED, Status.CLOSED, Status.CANCELLED)


def active_rules(session: Session, tenant_id: uuid.UUID) -> list[Rule]:
    rows = session.scalars(
        select(EscalationRule)
        .where(EscalationRule.tenant_id == tenant_id, EscalationRule.active.is_(True))
        .order_by(EscalationRule.level, EscalationRule.id)
    )
    return [rule_of(r) for r in rows]


def rule_of(row: EscalationRule) -> Rule:
    return Rule(
        id=row.id,
        name=row.name,
        level=row.level,
        logic=row.logic or {},
        trigger=row.trigger,
        action=row.action,
        minutes=row.minutes,
        business_time=row.business_time,
        sla_target=row.sla_target,
        percent=row.percent,
        category_id=row.category_id,
        team_id=row.team_id,
    )


def reschedule(session: Session, order: WorkOrder, rules: list[Rule] | None = None) -> None:
    """Store when ``order`` is next due for a look (or that it never is); ``rules``: the
    tenant's active rules, when the caller has them (and wants stale checks dropped)."""
    if inspect(order).pending:
        return  # no row may refer to it yet; the creation's history step plans it
    with session.no_autoflush:
        if rules is None:
            rules = active_rules(session, order.tenant_id)
            if not rules:
                # The common case, one query: a tenant without rules has no checks (the
                # last rule's deletion replanned its orders with the rules given).
                return
        check = session.get(EscalationCheck, order.id)
        planned = due_plan(session, order, rules) if rules else []
        at = from_epoch(planned[0][1]) if planned else None
        if at is None:
            if check is not None:
                session.delete(check)
        elif check is None:
            session.add(
                EscalationCheck(tenant_id=order.tenant_id, work_order_id=order.id, due_at=at)
            )
        elif check.due_at != at:
            check.due_at = at


def due_plan(session: Session, order: WorkOrder, rules: list[Rule]) -> list[tuple[Rule, int]]:
    """The rules that may still fire for ``order`` as it is now, with their due times."""
    if order.status in STOPPED:
        return []
    pauses = clocks.pauses_of(session, order.id)
    if any(end is None for _, end in pauses):
        return []  # paused: nothing fires until the clocks run again (no need to read more)
    fired = session.execute(
        select(Escalation.rule_id, Escalation.level).where(Escalation.work_order_id == order.id)
    ).all()
    facts = order_facts(session, order)
    categories = [c.id for c in clocks.category_path(session, order.category_id)]
    timing = _timing(session, order, rules, pauses)
    return upcoming(rules, facts, categories, timing, [(r, lv) for r, lv in fired], finished=False)


def order_facts(session: Session, order: WorkOrder) -> dict[str, object]:
    """What a condition reads: the priority rules' facts and the order's current state."""
    facts = facts_for(session, order, None)
    facts.update(
        priority=str(order.priority),
        status=str(order.status),
        assigned=order.assignee_id is not None,
        complaint=bool(order.complaint),
        amount=None if order.amount is None else float(order.amount),
    )
    return facts


def _timing(
    session: Session, order: WorkOrder, rules: list[Rule], pauses: list[tuple[int, int | None]]
) -> Timing:
    created = math.ceil(order.created_at.timestamp())
    row = session.get(WorkOrderSla, order.id)
    policy = session.get(SlaPolicy, row.policy_id) if row and row.policy_id else None
    sla_clock: Clock | None = None
    business = Clock(clocks.ROUND_THE_CLOCK)
    if policy is not None or any(r.business_time for r in rules):
        calendar_id = policy.calendar_id if policy is not None else None
        business = Clock(
            clocks.calendar_for(session, order.tenant_id, calendar_id, order.created_at)
        )
        sla_clock = business if policy is not None else None
    targets = None
    if policy is not None:
        targets = {
            "first_response": policy.first_response_minutes,
            "arrival": policy.arrival_minutes,
            "resolution": policy.resolution_minutes,
        }
    return Timing(
        created=created,
        status_since=_status_since(session, order, created),
        pauses=pauses,
        wall=Clock(clocks.ROUND_THE_CLOCK),
        business=business,
        sla=sla_clock,
        targets=targets,
        met=marks.met_targets(row),
    )


def _status_since(session: Session, order: WorkOrder, created: int) -> int:
    """When the order reached its current status (the step being recorded counts)."""
    pending = [
        c.occurred_at
        for c in session.new
        if isinstance(c, StatusChange) and c.work_order_id == order.id
    ]
    found: datetime | None = max(pending) if pending else None
    if found is None:
        found = session.scalar(
            select(func.max(StatusChange.occurred_at)).where(
                StatusChange.work_order_id == order.id, StatusChange.to_status == order.status
            )
        )
    return created if found is None else max(created, to_epoch(found))
