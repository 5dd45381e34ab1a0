"""Writing a dispatcher's choice to the work order (PROTOCOL.md § 8.6): office writes, fresh HLCs.

Three kinds of field come out of the merge rules as conflicts, and each is
written the way an online office write would be:

* plain fields (proposals, § 8.2): an LWW write by the office at a fresh server
  HLC (``merge_field``), stamped like a REST edit, with the same reference and
  window checks; a closed or cancelled order is not edited (as online);
* ``status`` (§ 8.1): the office transitions that reach the value
  (:mod:`api.sync.inbox.reach`), each through ``carry_out``, so history, audit
  and outbox messages are those of online steps. A completion takes the
  resolution text the technician sent, kept in the conflict's ``mutation``;
* ``assignee_id``: ``assign`` to the technician (``unassign`` for null).

:func:`write_value` returns the value the order shows for the field afterwards.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from api.audit import services as audit
from api.audit.changes import jsonable
from api.auth.actor import Actor
from api.errors.base import FieldProblem
from api.errors.common import ValidationFailed
from api.sync import clock
from api.sync.inbox.errors import ConflictUnreachable
from api.sync.inbox.reach import Holder, office_route
from api.sync.models import SyncConflict
from api.sync.syncables import wire_value
from api.workorders import rules
from api.workorders import services as order_services
from api.workorders.errors import IllegalTransition, WorkOrderLocked
from api.workorders.models import WorkOrder
from api.workorders.stamps import column_value, registers, stamp_fields
from api.workorders.states import Status
from api.workorders.transitions import carry_out
from sync_protocol.errors import JSONValue, ProtocolError
from sync_protocol.merge import FieldOutcome, FieldWrite, merge_field
from sync_protocol.ownership import WORK_ORDER_FIELDS
from sync_protocol.workorder_status import Action, Party

_REASON = "Sync conflict resolved by the office"
_WINDOWS = (("requested_start", "requested_end"), ("scheduled_start", "scheduled_end"))


def current_value(order: WorkOrder, field: str) -> JSONValue:
    """What the order shows for ``field`` now, as a protocol value."""
    return wire_value(getattr(order, field))


def check_value(field: str, value: object) -> JSONValue:
    """A dispatcher's ``custom`` value, validated as the field's wire value (§ 3.2)."""
    try:
        checked = WORK_ORDER_FIELDS[field].read(value, "value")
        if field == "status" and checked is not None:
            Status(str(checked))
    except ProtocolError as error:
        raise ValidationFailed(errors=[FieldProblem("value", "invalid", error.detail)]) from None
    except ValueError:
        problem = FieldProblem("value", "not_allowed", "Not a work order status")
        raise ValidationFailed(errors=[problem]) from None
    return checked


def write_value(
    session: Session, actor: Actor, order: WorkOrder, conflict: SyncConflict, value: JSONValue
) -> JSONValue:
    """Make ``order`` show ``value`` for the conflict's field, as the office would online."""
    if conflict.field == "status":
        _reach_status(session, actor, order, conflict, Status(str(value)))
    elif conflict.field == "assignee_id":
        _reach_assignee(session, actor, order, None if value is None else uuid.UUID(str(value)))
    else:
        _write_field(session, actor, order, conflict.field, value)
    return current_value(order, conflict.field)


def _write_field(
    session: Session, actor: Actor, order: WorkOrder, field: str, value: JSONValue
) -> None:
    if order.status in (Status.CLOSED, Status.CANCELLED):
        raise WorkOrderLocked()  # the record of a finished job changes only by reopening
    hlc = clock.now()
    decision = merge_field(
        WORK_ORDER_FIELDS[field],
        registers(order)[field],
        FieldWrite(field, value, hlc, Party.OFFICE),
    )
    if decision.outcome is not FieldOutcome.APPLIED:
        return  # the field already holds this value
    column = column_value(field, value)
    if field == "category_id" and column is not None:
        problems = order_services.category_problems(session, actor, column)
        if problems:
            raise ValidationFailed(errors=problems)
    before = getattr(order, field)
    setattr(order, field, column)
    _check_windows(order)
    stamp_fields(order, [field], hlc, Party.OFFICE)
    diff = {field: {"before": jsonable(before), "after": jsonable(column)}}
    audit.record(session, actor, "update", "work_order", order.id, diff)


def _reach_status(
    session: Session, actor: Actor, order: WorkOrder, conflict: SyncConflict, target: Status
) -> None:
    technician_id = conflict.technician_id
    route = office_route(order.status, _holder(order, technician_id), target)
    if route is None or (Action.ASSIGN in route and technician_id is None):
        raise ConflictUnreachable(
            f"No office actions take the order from {order.status.value} to {target.value}"
        )
    for action in route:
        command = _command(order, conflict, action)
        plan = rules.plan_transition(
            order.status,
            action,
            actor.role,
            is_assignee=False,
            has_assignee=order.assignee_id is not None,
        )
        carry_out(session, actor, order, plan, command, clock.now())


def _reach_assignee(
    session: Session, actor: Actor, order: WorkOrder, technician_id: uuid.UUID | None
) -> None:
    if order.assignee_id == technician_id:
        return
    action = Action.UNASSIGN if technician_id is None else Action.ASSIGN
    try:
        plan = rules.plan_transition(
            order.status,
            action,
            actor.role,
            is_assignee=False,
            has_assignee=order.assignee_id is not None,
        )
    except IllegalTransition as refused:
        raise ConflictUnreachable(
            f"The order is {order.status.value}: its assignee can no longer change",
            extra=dict(refused.extra),
        ) from None
    command = {"reason": _REASON, "assignee_id": technician_id}
    carry_out(session, actor, order, plan, command, clock.now())


def _command(order: WorkOrder, conflict: SyncConflict, action: Action) -> dict[str, Any]:
    """What each step needs: a reason, the technician to assign, the technician's resolution."""
    command: dict[str, Any] = {"reason": _REASON}
    if action is Action.ASSIGN:
        command["assignee_id"] = conflict.technician_id
    if action is Action.COMPLETE:
        args = (conflict.mutation or {}).get("args")
        sent = args.get("resolution") if isinstance(args, dict) else None
        resolution = sent if isinstance(sent, str) and sent.strip() else order.resolution
        if not resolution:
            raise ConflictUnreachable("A completion needs a resolution; use custom instead")
        command["resolution"] = resolution
    return command


def _check_windows(order: WorkOrder) -> None:
    """A window's end may not precede its start, as for an online edit."""
    problems = [
        FieldProblem("value", "out_of_range", f"{end} would be before {start}")
        for start, end in _WINDOWS
        if getattr(order, start)
        and getattr(order, end)
        and getattr(order, end) < getattr(order, start)
    ]
    if problems:
        raise ValidationFailed(errors=problems)


def _holder(order: WorkOrder, technician_id: uuid.UUID | None) -> Holder:
    if order.assignee_id is None:
        return Holder.NOBODY
    return Holder.TECHNICIAN if order.assignee_id == technician_id else Holder.OTHER
