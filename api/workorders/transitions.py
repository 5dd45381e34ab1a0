"""Moving a work order through its life: one use case per status change.

:func:`transition_work_order` asks :mod:`api.workorders.rules` what the action
does, applies it, and in the same transaction appends the history row, the
audit event and the ``work_order.status_changed`` outbox message that the
worker turns into notifications. Nothing else changes an order's status.

Every step has an *occurred* time (PROTOCOL.md § 7.3): now for an online step
(or, for the office, a past time it states, e.g. an arrival phoned in), the
device's time for a synced one. History, the stamps (``completed_at`` …) and
the actuals read it; the history row also keeps when it was recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from api.audit import services as audit
from api.audit.changes import apply_changes
from api.auth.actor import Actor
from api.db import UnitOfWork, utcnow
from api.db.checks import check_version
from api.dispatching.requests import withdraw_open
from api.errors.base import FieldProblem
from api.errors.common import ValidationFailed
from api.outbox.services import publish
from api.servicedesk import clocks as sla_clocks
from api.signoff import rules as signoff_rules
from api.sync import clock as sync_clock
from api.workflows import runs as workflow_runs
from api.workorders import queries, rules
from api.workorders.models import StatusChange, WorkOrder
from api.workorders.queries import WorkOrderView
from api.workorders.rules import Action, AssigneeEffect, Plan
from api.workorders.stamps import party_of_actor, stamp_fields, write_actuals
from api.workorders.states import Status
from sync_protocol.hlc import CLOCK_TOLERANCE_MS, HLC

TOPIC_STATUS_CHANGED = "work_order.status_changed"
# An office-stated time up to this far past the server's clock is a browser clock running
# a little ahead, taken as now; further ahead it is refused.
_STATED_AHEAD = timedelta(milliseconds=CLOCK_TOLERANCE_MS)
# The office taking an order in hand ends its auto-dispatch (api.dispatching.requests).
_ENDS_OFFERS = frozenset({Action.ASSIGN, Action.CANCEL})
TRANSITION_FIELDS = frozenset({"status", "assignee_id", "resolution", *rules.STAMPS})


def transition_work_order(
    uow: UnitOfWork,
    actor: Actor,
    work_order_id: uuid.UUID,
    command: Mapping[str, Any],
    expected_version: int | None = None,
) -> WorkOrderView:
    """Take ``command["action"]``; ``expected_version`` (optional) guards against stale UIs."""
    with uow:
        session = uow.session
        order = queries.access_work_order(session, actor, work_order_id, for_update=True)
        if expected_version is not None:
            check_version(order, expected_version)
        action = Action(command["action"])
        plan = rules.plan_transition(
            order.status,
            action,
            actor.role,
            is_assignee=queries.is_assignee(actor, order),
            has_assignee=order.assignee_id is not None,
        )
        problems = rules.field_problems(action, command)
        if problems:
            raise ValidationFailed(errors=problems)
        occurred_at = _stated_time(session, actor, order, command.get("occurred_at"))
        carry_out(session, actor, order, plan, command, sync_clock.now(), occurred_at)
        view = queries.present(session, actor, [order])[0]
        uow.commit()
        return view


def carry_out(
    session: Session,
    actor: Actor,
    order: WorkOrder,
    plan: Plan,
    command: Mapping[str, Any],
    hlc: HLC,
    occurred_at: datetime | None = None,
) -> None:
    """Apply a planned status change with everything that goes with it, in the caller's unit.

    The order, its status stamp (``status_hlc``, and the ``resolution`` field's
    stamp when a completion writes it), its actuals (``actual_start`` when work
    starts, ``actual_end`` when it ends: ``workorder_status.ACTUALS``), the
    history row, the audit event and the outbox message. Online transitions and
    synced ones (:mod:`api.sync.push`) both come through here, so an offline job
    leaves exactly the trail of an online one.
    ``occurred_at`` is when the step happened (default: now).
    """
    if plan.action is Action.COMPLETE:
        signoff_rules.check_completion(session, order.tenant_id, order.id, order.category_id)
    occurred = occurred_at or utcnow()
    previous_assignee = order.assignee_id
    changes = _changes(session, actor, plan, command, occurred)
    diff = apply_changes(order, changes, TRANSITION_FIELDS)
    diff.update(write_actuals(order, plan.action, occurred, hlc, party_of_actor(actor)))
    order.status_hlc = str(hlc)
    if "resolution" in diff:
        stamp_fields(order, ["resolution"], hlc, party_of_actor(actor))
    diff["status"] = {"before": plan.from_status.value, "after": plan.to_status.value}
    diff["action"] = {"after": plan.action.value}
    reason = command.get("reason")
    append_history(
        session, actor, order, plan.action.value, plan.from_status, reason=reason, at=occurred
    )
    audit.record(session, actor, "transition", "work_order", order.id, diff)
    event = _event(actor, order, plan, previous_assignee, reason, occurred)
    publish(session, actor.tenant_id, TOPIC_STATUS_CHANGED, event)
    if plan.action in _ENDS_OFFERS:
        withdraw_open(session, order, f"the order was {plan.to_status.value}", utcnow())


def append_history(
    session: Session,
    actor: Actor,
    order: WorkOrder,
    action: str,
    from_status: Status | None,
    *,
    reason: str | None,
    at: datetime | None = None,
) -> None:
    """One row of the order's status history, to the status it has now.

    ``at`` is when the step occurred (default: now); the row is recorded now.
    """
    now = utcnow()
    session.add(
        StatusChange(
            tenant_id=order.tenant_id,
            work_order_id=order.id,
            action=action,
            from_status=from_status,
            to_status=order.status,
            reason=reason,
            actor_kind=actor.kind,
            actor_id=actor.principal_id,
            occurred_at=at or now,
            recorded_at=now,
        )
    )
    # Every status step (creation, pause, resume, completion) can move the SLA clocks,
    # and the workflow: creation starts it, a status may complete the step waiting for it.
    sla_clocks.refresh(session, order)
    workflow_runs.follow_order(session, actor, order, action)


def _stated_time(
    session: Session, actor: Actor, order: WorkOrder, stated: datetime | None
) -> datetime:
    """When an online step happened: now, or the past time the office states.

    A stated time may not lie before the step the order is at (history stays in
    order) nor in the future; only the office states times (a technician's own
    past steps come through sync, with their device's time).
    """
    now = utcnow()
    if stated is None:
        return now
    problem: FieldProblem | None = None
    if not actor.is_office:
        problem = FieldProblem("occurred_at", "not_allowed", "Only the office states a past time")
    elif stated > now + _STATED_AHEAD:
        problem = FieldProblem("occurred_at", "out_of_range", "occurred_at is in the future")
    else:
        floor = queries.step_time(session, order, order.status)
        if floor is not None and stated < floor:
            problem = FieldProblem(
                "occurred_at", "out_of_range", "occurred_at is before the order's current step"
            )
    if problem is not None:
        raise ValidationFailed(errors=[problem])
    return min(stated, now)


def _changes(
    session: Session, actor: Actor, plan: Plan, command: Mapping[str, Any], occurred: datetime
) -> dict[str, Any]:
    changes: dict[str, Any] = {"status": plan.to_status}
    if plan.assignee is AssigneeEffect.SET:
        changes["assignee_id"] = _active_technician(session, actor, command["assignee_id"])
    elif plan.assignee is AssigneeEffect.CLEAR:
        changes["assignee_id"] = None
    if plan.clears_stamps:
        changes.update(dict.fromkeys(rules.STAMPS))
    if plan.stamp:
        changes[plan.stamp] = occurred
    if plan.action is Action.COMPLETE and "resolution" in command:
        changes["resolution"] = command["resolution"]
    return changes


def _active_technician(session: Session, actor: Actor, technician_id: uuid.UUID) -> uuid.UUID:
    technician = queries.find_technician(session, actor, technician_id)
    if technician is None:
        problem = FieldProblem("assignee_id", "not_found", "No such technician")
    elif not technician.active:
        problem = FieldProblem("assignee_id", "inactive", "The technician is deactivated")
    else:
        return technician.id
    raise ValidationFailed(errors=[problem])


def _event(
    actor: Actor,
    order: WorkOrder,
    plan: Plan,
    previous_assignee: uuid.UUID | None,
    reason: str | None,
    occurred: datetime,
) -> dict[str, Any]:
    """The outbox payload; ``assignee_id`` is the assignee after the change."""
    return {
        "tenant_id": order.tenant_id,
        "work_order_id": order.id,
        "number": order.number,
        "from_status": plan.from_status,
        "to_status": plan.to_status,
        "action": plan.action,
        "actor_id": actor.principal_id,
        "assignee_id": order.assignee_id,
        "customer_id": order.customer_id,
        "created_by": order.created_by,
        # So a technician taken off a job can be told (unassign, reassign).
        "previous_assignee_id": previous_assignee,
        "reason": reason,
        "occurred_at": occurred,
    }
