"""The escalation sweep the worker runs on a schedule: fire what is due, exactly once.

One index range scan finds the orders due for a look (``escalation_checks.due_at
<= now``), locked with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so several
workers share them; an order whose row an office request holds locked is left
for the next sweep (that request reschedules it anyway). Each rule that is due
and still holds is inserted into ``work_order_escalations`` with ``ON CONFLICT
DO NOTHING`` on (order, rule, level): only the transaction whose insert took
effect acts (notifies through the outbox, raises the priority, writes the
audit trail), so a second worker, a retried batch or a restarted worker never
escalates twice. Then the order is rescheduled. A failing order is logged and
looked at again later; it never stops the sweep.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.audit.changes import apply_changes
from api.auth.actor import system_actor
from api.db import UnitOfWorkFactory, new_id
from api.outbox.services import publish
from api.servicedesk import clocks, escalating
from api.servicedesk.calendar import from_epoch, to_epoch
from api.servicedesk.escalation_models import Escalation, EscalationCheck
from api.servicedesk.escalation_rules import Rule, holds, raised
from api.sync import clock as sync_clock
from api.teams.models import Team
from api.technicians.models import Technician
from api.users.models import User
from api.workorders.models import WorkOrder
from api.workorders.stamps import stamp_fields
from api.workorders.states import Priority
from sync_protocol.workorder_status import Party

log = logging.getLogger("fieldline.escalation")

TOPIC = "work_order.escalated"
RETRY_AFTER = timedelta(minutes=10)  # an order whose look failed is tried again then
MAX_BATCHES = 10_000  # a bound, never reached: the rest waits for the next sweep


def sweep(uow_factory: UnitOfWorkFactory, now: datetime, batch_size: int = 200) -> int:
    """Look at every order due by ``now``; returns how many escalations fired."""
    fired = 0
    for _ in range(MAX_BATCHES):  # each look moves its check past ``now``: this ends sooner
        count, claimed = _sweep_batch(uow_factory, now, batch_size)
        fired += count
        if claimed < batch_size:
            break
    return fired


def due_checks(session: Session, now: datetime, limit: int) -> list[EscalationCheck]:
    """The index range scan: checks due by ``now``, earliest first (locked on PostgreSQL)."""
    stmt = (
        select(EscalationCheck)
        .where(EscalationCheck.due_at <= now)
        .order_by(EscalationCheck.due_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def _sweep_batch(uow_factory: UnitOfWorkFactory, now: datetime, limit: int) -> tuple[int, int]:
    with uow_factory() as uow:
        session = uow.session
        checks = due_checks(session, now, limit)
        fired = 0
        for check in checks:
            try:
                with session.begin_nested():
                    fired += _look_at(session, check, now)
            except Exception:
                log.exception(
                    "escalation check failed", extra={"work_order_id": str(check.work_order_id)}
                )
                check.due_at = now + RETRY_AFTER
        uow.commit()
        return fired, len(checks)


def _look_at(session: Session, check: EscalationCheck, now: datetime) -> int:
    stmt = select(WorkOrder).where(WorkOrder.id == check.work_order_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    order = session.scalars(stmt).one_or_none()
    if order is None:
        # Being changed right now (that change reschedules it), or gone: look again soon.
        check.due_at = now + timedelta(seconds=30)
        return 0
    rules = escalating.active_rules(session, order.tenant_id)
    fired = 0
    for rule, at in escalating.due_plan(session, order, rules):
        if at > to_epoch(now):
            break
        if _fire(session, order, rule, from_epoch(at), now):
            fired += 1
    escalating.reschedule(session, order, rules)
    return fired


def _fire(session: Session, order: WorkOrder, rule: Rule, due_at: datetime, now: datetime) -> bool:
    """Record and carry out one escalation unless it was already recorded (then False)."""
    facts = escalating.order_facts(session, order)
    categories = [c.id for c in clocks.category_path(session, order.category_id)]
    if not holds(rule, facts, categories):
        return False
    recipients = recipients_of(session, order, rule)
    before = str(order.priority)
    after = raised(before) if rule.action == "raise_priority" else None
    escalation_id = new_id()
    values: dict[str, Any] = {
        "id": escalation_id,
        "tenant_id": order.tenant_id,
        "work_order_id": order.id,
        "rule_id": rule.id,
        "rule_name": rule.name,
        "level": rule.level,
        "action": rule.action,
        "due_at": due_at,
        "fired_at": now,
        "recipients": [str(u) for u in recipients],
        "priority_before": before if after else None,
        "priority_after": after,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.execute(
        dialect.insert(Escalation)
        .values(values)
        .on_conflict_do_nothing(index_elements=["work_order_id", "rule_id", "level"])
        .returning(Escalation.id)
    ).scalar_one_or_none()
    if inserted is None:
        return False  # another worker (or an earlier run) fired it
    actor = system_actor(order.tenant_id)
    if after is not None and after != before:
        apply_changes(order, {"priority": Priority(after)}, {"priority"})
        stamp_fields(order, ["priority"], sync_clock.now(), Party.OFFICE)
        clocks.refresh(session, order)  # a new priority may mean a new policy
    audit.record(
        session,
        actor,
        "escalate",
        "work_order",
        order.id,
        {
            "escalation": {
                "after": {
                    "id": str(escalation_id),
                    "rule": rule.name,
                    "level": rule.level,
                    "action": rule.action,
                    "due_at": due_at.isoformat(),
                    "recipients": values["recipients"],
                }
            },
            **(
                {"priority": {"before": before, "after": after}}
                if after != before and after
                else {}
            ),
        },
    )
    if recipients:
        publish(
            session,
            order.tenant_id,
            TOPIC,
            {
                "tenant_id": order.tenant_id,
                "escalation_id": escalation_id,
                "work_order_id": order.id,
                "number": order.number,
                "rule": rule.name,
                "level": rule.level,
                "action": rule.action,
                "recipients": values["recipients"],
            },
        )
    return True


def recipients_of(session: Session, order: WorkOrder, rule: Rule) -> list[uuid.UUID]:
    """Who hears of it: active users of the order's tenant only.

    The team supervisor is the rule's team's, else the assignee's team's; with
    no supervisor to be found the managers hear instead (an escalation nobody
    hears of has not happened).
    """
    tenant = order.tenant_id
    people: list[uuid.UUID | None] = []
    if rule.action == "notify_supervisor":
        team_id = rule.team_id or session.scalar(
            select(Technician.team_id).where(Technician.id == order.assignee_id)
        )
        if team_id is not None:
            people.append(
                session.scalar(
                    select(Team.supervisor_user_id).where(
                        Team.id == team_id, Team.tenant_id == tenant
                    )
                )
            )
    if rule.action == "notify_assignee" and order.assignee_id is not None:
        people.append(
            session.scalar(select(Technician.user_id).where(Technician.id == order.assignee_id))
        )
    if rule.action == "notify_managers" or (rule.action == "notify_supervisor" and not any(people)):
        people.extend(
            session.scalars(
                select(User.id)
                .where(User.tenant_id == tenant, User.manager.is_(True))
                .order_by(User.id)
            )
        )
    wanted = {p for p in people if p is not None}
    if not wanted:
        return []
    active = session.scalars(
        select(User.id).where(
            User.tenant_id == tenant, User.active.is_(True), User.id.in_(sorted(wanted))
        )
    )
    return sorted(active)
