"""One mutation, atomically: parse, admit its HLC, run it in a SAVEPOINT, answer (§ 7.2–7.5).

:func:`apply_mutation` never raises for a mutation-level failure. A refusal
(:class:`~sync_protocol.errors.ProtocolError`) or an unexpected exception rolls
back the mutation's savepoint, parks the mutation in quarantine with its reason
(outside the savepoint, so the entry survives) and returns a ``rejected``
result: one bad mutation never blocks the ones after it, and nothing of it is
half-applied. WatermelonDB pushes come through here too, with ``seq`` None.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from api.sync import capture, clock
from api.sync.models import SyncQuarantine
from api.sync.push import evidence, offers, orders, scans, signoff
from api.sync.push.orders import Done
from api.sync.push.writer import Writer
from sync_protocol.errors import JSONValue, ProtocolError
from sync_protocol.hlc import HLC, admit
from sync_protocol.merge import FieldOutcome, Outcome
from sync_protocol.messages import Receipt
from sync_protocol.mutations import (
    AnswerOffer,
    CreateWorkOrder,
    MutationArgs,
    PatchWorkOrder,
    ScanCode,
    SignOff,
    TransitionWorkOrder,
    VoidEvidence,
    parse_args,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Applied:
    """A mutation's result; :meth:`receipt` numbers it for the device."""

    outcome: Outcome
    hlc: HLC | None
    code: str | None = None
    field: str | None = None
    detail: str | None = None
    warnings: tuple[str, ...] = ()
    fields: dict[str, FieldOutcome] | None = None
    conflict_ids: tuple[uuid.UUID, ...] = ()
    entity_id: uuid.UUID | None = None
    quarantine_id: uuid.UUID | None = None

    def receipt(self, seq: int) -> Receipt:
        return Receipt(
            seq,
            self.outcome,
            self.hlc,
            self.code,
            self.field,
            self.detail,
            self.warnings,
            dict(self.fields or {}),
            self.conflict_ids,
            self.entity_id,
        )


def apply_mutation(
    session: Session,
    writer: Writer,
    name: str,
    args: JSONValue,
    hlc: HLC,
    seq: int | None,
    invalid: ProtocolError | None = None,
) -> Applied:
    """Run one mutation of ``writer``'s device; see the module docstring.

    ``invalid``: the envelope found text in ``args`` no database can store (NUL, a
    lone surrogate) or nesting past the limit; the mutation is rejected with it and
    quarantined (``args`` are then a storable copy), and the batch carries on.
    """
    mutation: dict[str, Any] = {"seq": seq, "hlc": str(hlc), "name": name, "args": args}
    admission = admit(hlc, writer.receive_ms, writer.last_hlc)
    effective = admission.effective
    writer.last_hlc = effective
    if admission.clamped:
        writer.clamped += 1
    clock.observe(effective)
    parsed: MutationArgs | None = None
    try:
        if invalid is not None:
            raise invalid
        parsed = parse_args(name, args)
        if _single_write(parsed):
            done = _run(session, writer, parsed, effective, hlc, mutation)
        else:
            capture.write_queued(session)  # queued evidence first, outside the savepoint
            with session.begin_nested():
                done = _run(session, writer, parsed, effective, hlc, mutation)
    except OperationalError:
        # Deadlocks, lost connections: transient, not the mutation's fault. The whole
        # push fails and nothing commits; the device resends the batch.
        raise
    except ProtocolError as error:
        code, field, detail = error.code, error.field, error.detail
    except Exception:
        log.exception("mutation failed", extra={"device_id": str(writer.device_id), "seq": seq})
        code, field, detail = "sync.internal_error", None, "The server failed; kept for review"
    else:
        return Applied(
            done.outcome,
            effective,
            done.code,
            None,
            done.detail if done.outcome is Outcome.CONFLICT else None,
            admission.warnings,
            done.fields or None,
            done.conflict_ids,
            done.entity_id,
        )
    writer.forget_locks()  # a rolled-back savepoint released the locks it took
    return _quarantine(
        session, writer, mutation, parsed, effective, admission.warnings, code, field, detail
    )


def _single_write(args: MutationArgs) -> bool:
    """Evidence and voids check everything first and write one row last, so a refusal
    leaves nothing to undo: they skip the savepoint (two round trips each), and their
    inserts reach the database together."""
    written_with_savepoint = (
        CreateWorkOrder | TransitionWorkOrder | PatchWorkOrder | SignOff | ScanCode | AnswerOffer
    )
    return not isinstance(args, written_with_savepoint)


def _run(
    session: Session,
    writer: Writer,
    args: MutationArgs,
    hlc: HLC,
    sent: HLC,
    mutation: dict[str, Any],
) -> Done:
    if isinstance(args, CreateWorkOrder):
        return orders.create(session, writer, args, hlc, sent, mutation)
    if isinstance(args, TransitionWorkOrder):
        return orders.transition(session, writer, args, hlc, sent, mutation)
    if isinstance(args, PatchWorkOrder):
        return orders.patch(session, writer, args, hlc, sent, mutation)
    if isinstance(args, SignOff):
        return signoff.sign_off(session, writer, args, hlc, sent)
    if isinstance(args, VoidEvidence):
        return evidence.void(session, writer, args, hlc, sent)
    if isinstance(args, ScanCode):
        return scans.scan(session, writer, args, sent)
    if isinstance(args, AnswerOffer):
        return offers.answer(session, writer, args, hlc, sent)
    return evidence.add(session, writer, args, hlc, sent)


def _quarantine(
    session: Session,
    writer: Writer,
    mutation: dict[str, Any],
    parsed: MutationArgs | None,
    hlc: HLC,
    warnings: tuple[str, ...],
    code: str,
    field: str | None,
    detail: str,
) -> Applied:
    entry = SyncQuarantine(
        tenant_id=writer.tenant_id,
        device_id=writer.device_id,
        technician_id=writer.technician_id,
        seq=mutation["seq"],
        mutation=mutation,
        work_order_id=_work_order_of(parsed, mutation),
        code=code,
        field=field,
        detail=detail[:2000] if detail else None,
    )
    session.add(entry)
    session.flush()  # its id goes into the result
    return Applied(
        Outcome.REJECTED,
        hlc,
        code,
        field,
        detail[:2000] if detail else None,
        warnings,
        None,
        (),
        entry.work_order_id,
        entry.id,
    )


def _work_order_of(parsed: MutationArgs | None, mutation: dict[str, Any]) -> uuid.UUID | None:
    """The order a parked mutation is about, so dispatchers see it on the order."""
    if parsed is not None:
        return parsed.work_order_id
    args = mutation.get("args")
    raw = args.get("work_order_id") if isinstance(args, dict) else None
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None
