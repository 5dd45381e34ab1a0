"""Work order mutations: create offline (§ 8.5), transitions (§ 8.1), field patches (§ 8.2).

Each function runs inside the mutation's savepoint and either returns what
happened or raises :class:`~sync_protocol.errors.ProtocolError` (the engine rolls
the savepoint back and quarantines the mutation). The decisions are
``sync_protocol``'s, shared with the client SDK; this module reads the order,
asks, and writes the answer through the same functions online requests use, so
history, audit and outbox messages are those of an online job.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.audit.changes import jsonable
from api.customers.queries import access_customer
from api.errors.base import FieldlineError, FieldProblem
from api.signoff.rules import SignOffRequired
from api.sync.push import conflicts
from api.sync.push.access import order_for_update
from api.sync.push.writer import Writer
from api.tenants.services import next_number
from api.workorders import services as order_services
from api.workorders.models import WorkOrder
from api.workorders.queries import step_time
from api.workorders.stamps import column_value, registers, stamp_fields
from api.workorders.states import Status
from api.workorders.transitions import carry_out
from sync_protocol.errors import ProtocolError
from sync_protocol.hlc import HLC
from sync_protocol.merge import FieldOutcome, FieldWrite, Outcome, merge_field, merge_patch
from sync_protocol.mutations import CreateWorkOrder, PatchWorkOrder, TransitionWorkOrder
from sync_protocol.ownership import WORK_ORDER_FIELDS
from sync_protocol.status_merge import Kept, OrderStatusState, TransitionIntent, decide
from sync_protocol.wire import canonical_json
from sync_protocol.workorder_status import Action, Party


@dataclass(frozen=True)
class Done:
    """What one mutation did: the receipt's status and what goes with it."""

    outcome: Outcome
    entity_id: uuid.UUID | None
    code: str | None = None
    detail: str | None = None
    fields: dict[str, FieldOutcome] = field(default_factory=dict)
    conflict_ids: tuple[uuid.UUID, ...] = ()


def create(
    session: Session,
    writer: Writer,
    args: CreateWorkOrder,
    hlc: HLC,
    sent: HLC,
    mutation: dict[str, Any],
) -> Done:
    digest = hashlib.sha256(canonical_json(args.to_json())).hexdigest()
    existing = session.execute(
        select(WorkOrder.tenant_id, WorkOrder.create_digest).where(WorkOrder.id == args.id)
    ).first()
    if existing is not None:
        if tuple(existing) == (writer.tenant_id, digest):
            return Done(Outcome.DUPLICATE, args.id, detail="Already created")
        # Indistinguishable whether another tenant or another order of this one holds it.
        raise ProtocolError("sync.id_reused", "This ID names another work order", "args.id")
    values = {name: column_value(name, value) for name, value in args.fields.items()}
    _check_references(session, writer, values, list(args.asset_ids))
    actor = writer.actor
    order = WorkOrder(
        id=args.id,
        tenant_id=writer.tenant_id,
        number=f"WO-{next_number(session, writer.tenant_id, 'work_order'):06d}",
        status=Status.NEW,
        source="device",
        created_by=actor.user_id,
        creator_technician_id=writer.technician_id,
        create_digest=digest,
        status_hlc=str(hlc),
        **values,
    )
    session.add(order)
    stamp_fields(
        order, sorted(k for k in values if WORK_ORDER_FIELDS[k].patchable), hlc, writer.party
    )
    session.flush()  # the order exists before its links and history point at it
    # As for an online create, dispatch policy included (once: a replay is a duplicate).
    created = writer.occurred_at(sent)
    order_services.record_creation(session, actor, order, list(args.asset_ids), created)
    return Done(Outcome.APPLIED, order.id)


def transition(
    session: Session,
    writer: Writer,
    args: TransitionWorkOrder,
    hlc: HLC,
    sent: HLC,
    mutation: dict[str, Any],
) -> Done:
    order = order_for_update(session, writer, args.work_order_id, sent, "args.work_order_id")
    state = OrderStatusState(
        order.status, order.assignee_id, HLC.parse(order.status_hlc) if order.status_hlc else None
    )
    intent = TransitionIntent(
        args.action,
        writer.party,
        args.base_status,
        hlc,
        actor_id=writer.technician_id if writer.party is Party.ASSIGNEE else None,
        assignee_id=args.assignee_id,
    )
    decision = decide(state, intent)
    if decision.outcome is Outcome.REJECTED:
        raise ProtocolError(
            decision.code or "sync.illegal_transition", decision.detail, "args.action"
        )
    if decision.plan is not None:
        command: dict[str, Any] = {"reason": args.reason}
        if decision.state.assignee_id is not None:
            command["assignee_id"] = decision.state.assignee_id
        # When it happened on the device, never before the step it was taken from (§ 7.3).
        floor = step_time(session, order, args.base_status)
        occurred = writer.occurred_at(sent, floor)
        try:
            carry_out(session, writer.actor, order, decision.plan, command, hlc, occurred)
        except SignOffRequired as refused:
            raise ProtocolError(
                "sync.sign_off_required", refused.detail or "", "args.action"
            ) from None
    elif decision.state.status_hlc != state.status_hlc and decision.state.status_hlc is not None:
        order.status_hlc = str(decision.state.status_hlc)  # the register's stamp moves on (row 17)
    conflict_ids: tuple[uuid.UUID, ...] = ()
    if decision.conflict is not None:
        conflict_ids = (
            conflicts.record_status_conflict(
                session, writer, order, decision.conflict, hlc, mutation
            ),
        )
    keeps_device = decision.conflict is None or decision.conflict.kept is Kept.DEVICE
    if args.action is Action.COMPLETE and args.resolution is not None and keeps_device:
        _write_resolution(session, writer, order, args.resolution, hlc)
    return Done(
        decision.outcome, order.id, decision.code, decision.detail or None, {}, conflict_ids
    )


def patch(
    session: Session,
    writer: Writer,
    args: PatchWorkOrder,
    hlc: HLC,
    sent: HLC,
    mutation: dict[str, Any],
) -> Done:
    order = order_for_update(session, writer, args.work_order_id, sent, "args.work_order_id")
    try:
        result = merge_patch(WORK_ORDER_FIELDS, registers(order), args.writes(hlc, writer.party))
    except ProtocolError as error:
        raise ProtocolError(error.code, error.detail, f"args.fields.{error.field}") from None
    won = sorted(n for n, o in result.fields.items() if o is FieldOutcome.APPLIED)
    values = {name: column_value(name, result.registers[name].value) for name in won}
    if "category_id" in values:
        _check_references(session, writer, {"category_id": values["category_id"]}, [])
    diff = {
        name: {"before": jsonable(getattr(order, name)), "after": jsonable(value)}
        for name, value in values.items()
        if getattr(order, name) != value
    }
    for name, value in values.items():
        setattr(order, name, value)
    stamp_fields(order, won, hlc, writer.party)
    audit.record(session, writer.actor, "update", "work_order", order.id, diff)
    conflict_ids = tuple(
        conflicts.record_proposal(session, writer, order, proposal, mutation)
        for proposal in result.conflicts
    )
    return Done(
        result.outcome,
        order.id,
        _conflict_code(result.conflicts),
        None,
        dict(result.fields),
        conflict_ids,
    )


def _write_resolution(
    session: Session, writer: Writer, order: WorkOrder, resolution: str, hlc: HLC
) -> None:
    """A completion's resolution is an LWW write at the transition's HLC (§ 8.2)."""
    spec = WORK_ORDER_FIELDS["resolution"]
    decision = merge_field(
        spec,
        registers(order)["resolution"],
        FieldWrite("resolution", resolution, hlc, writer.party),
    )
    if decision.outcome is FieldOutcome.APPLIED and order.resolution != resolution:
        before = order.resolution
        order.resolution = resolution
        stamp_fields(order, ["resolution"], hlc, writer.party)
        diff = {"resolution": {"before": before, "after": resolution}}
        audit.record(session, writer.actor, "update", "work_order", order.id, diff)


def _conflict_code(found: tuple[Any, ...]) -> str | None:
    return found[0].code if found else None


def _check_references(
    session: Session, writer: Writer, values: dict[str, Any], asset_ids: list[uuid.UUID]
) -> None:
    """Customer, site, category and assets must be the writer's to use (as online)."""
    actor = writer.actor
    problems: list[FieldProblem]
    if "customer_id" in values:
        data = dict(values)
        problems = order_services.reference_problems(
            session, actor, values["customer_id"], data, asset_ids
        )
        if not problems and not _customer_visible(session, writer, values["customer_id"]):
            problems = [FieldProblem("customer_id", "not_found", "No such customer")]
    else:
        problems = order_services.category_problems(session, actor, values.get("category_id"))
    if problems:
        first = problems[0]
        code = "sync.not_in_scope" if first.code == "not_found" else "sync.invalid_value"
        where = "args.fields." if "customer_id" not in values else "args."
        raise ProtocolError(code, first.message, where + first.field)


def _customer_visible(session: Session, writer: Writer, customer_id: uuid.UUID) -> bool:
    try:
        access_customer(session, writer.actor, customer_id)
    except FieldlineError:
        return False
    return True
