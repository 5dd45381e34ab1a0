"""What the technician sees: the server's image with the device's pending mutations on top.

A view is never stored. It is recomputed from the current server image of an
order (and its evidence rows) plus the mutations still pending for it, in seq
order: that is the *rebase*. When a pull brings a new image, the next read
lays the remaining mutations over it; when receipts arrive, acknowledged
mutations stop being laid over (the server image now carries their effect).
So a view is always exactly ``fold(apply, pending, server image)``.

Each mutation is applied with the protocol's own rules, never re-implemented
here: status through :func:`sync_protocol.status_merge.decide` (as the
server will replay it), fields through :func:`sync_protocol.merge.merge_patch`
with declared ownership (a technician's edit to an office field stays a
proposal and does not show), evidence through
:class:`sync_protocol.merge.EvidenceSet`. What the view predicts is therefore
what the server will do, unless someone else changed the order meanwhile.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from sync_protocol.entities import EvidenceKind
from sync_protocol.errors import JSONValue, ProtocolError
from sync_protocol.hlc import HLC
from sync_protocol.merge import (
    EvidenceItem,
    EvidenceSet,
    FieldWrite,
    Outcome,
    Stamped,
    Void,
    merge_patch,
)
from sync_protocol.messages import Mutation
from sync_protocol.mutations import (
    AddNote,
    AddTimeEntry,
    AttachPhoto,
    CreateWorkOrder,
    PatchWorkOrder,
    RecordPart,
    RecordReading,
    ScanCode,
    SignOff,
    TransitionWorkOrder,
    VoidEvidence,
    evidence_item,
    parse_args,
)
from sync_protocol.ownership import WORK_ORDER_FIELDS
from sync_protocol.status_merge import Kept, OrderStatusState, TransitionIntent, decide
from sync_protocol.wire import format_timestamp
from sync_protocol.workorder_status import STAMPS, Party, Status, actual_writes

ZERO = HLC(0, 0, "server")  # fields written before sync existed count as stamped at 0 (§ 8.2)
_EVIDENCE_ARGS = (AddNote, RecordPart, RecordReading, AddTimeEntry, AttachPhoto)


@dataclass(frozen=True)
class OrderView:
    """One work order as the device shows it now."""

    id: str
    row: Mapping[str, JSONValue] | None  # None: not on this device (yet)
    evidence: EvidenceSet = field(default_factory=EvidenceSet)
    pending: int = 0  # mutations laid over the server image
    held: bool = False  # left this device's scope; read-only until its edits have receipts

    @property
    def status(self) -> Status | None:
        value = self.row.get("status") if self.row else None
        return Status(value) if isinstance(value, str) else None

    def to_json(self) -> dict[str, JSONValue]:
        live = {item.id for item in self.evidence.visible()}
        items: list[JSONValue] = [
            {
                "kind": item.kind.value,
                "id": str(item.id),
                "hlc": str(item.hlc),
                "voided": item.id not in live,
                "content": dict(item.content),
            }
            for item in sorted(self.evidence.items.values(), key=lambda i: (i.hlc, i.id))
        ]
        return {
            "id": self.id,
            "row": dict(self.row) if self.row else None,
            "evidence": items,
            "pending": self.pending,
            "held": self.held,
        }


def server_view(
    order_id: str,
    row: Mapping[str, JSONValue] | None,
    evidence_rows: Iterable[tuple[EvidenceKind, Mapping[str, Any]]] = (),
    *,
    held: bool = False,
) -> OrderView:
    """The view before any pending mutation: the server's image as pulled."""
    items: dict[uuid.UUID, EvidenceItem] = {}
    voids: dict[uuid.UUID, Void] = {}
    for kind, image in evidence_rows:
        item = _server_item(kind, image)
        items[item.id] = item
        if image.get("voided_at"):
            voids[item.id] = Void(
                kind,
                item.id,
                _uuid(image.get("voided_by")),
                Party.OFFICE,
                _hlc(image.get("void_hlc")),
                str(image.get("void_reason") or ""),
            )
    evidence = EvidenceSet(MappingProxyType(items), MappingProxyType(voids))
    frozen = MappingProxyType(dict(row)) if row is not None else None
    return OrderView(order_id, frozen, evidence, 0, held)


def rebase(base: OrderView, pending: Sequence[Mutation], technician_id: uuid.UUID) -> OrderView:
    """``base`` with every pending mutation applied in seq order."""
    view = base
    for mutation in pending:
        view = apply(view, mutation, technician_id)
    return view


def apply(view: OrderView, mutation: Mutation, technician_id: uuid.UUID) -> OrderView:
    """One pending mutation laid over a view, by the rules the server will use."""
    args = parse_args(mutation.name, dict(mutation.args))
    view = replace(view, pending=view.pending + 1)
    if isinstance(args, CreateWorkOrder):
        return view if view.row is not None else replace(view, row=_created(args, mutation))
    if isinstance(args, _EVIDENCE_ARGS):
        item = evidence_item(args, author_id=technician_id, party=Party.ASSIGNEE, hlc=mutation.hlc)
        return replace(view, evidence=view.evidence.add(item).evidence)
    if isinstance(args, VoidEvidence):
        void = Void(
            args.evidence, args.id, technician_id, Party.ASSIGNEE, mutation.hlc, args.reason
        )
        return replace(view, evidence=view.evidence.void(void).evidence)
    if isinstance(args, ScanCode):
        return view  # the server names the asset (PROTOCOL.md § 8.8); the pull brings it
    if isinstance(args, SignOff):
        return view  # kept by the server, not a replicated row (PROTOCOL.md § 8.7)
    if view.row is None:
        return view  # an order this device cannot see: nothing to show
    if isinstance(args, TransitionWorkOrder):
        return replace(view, row=_transition(view.row, args, mutation.hlc, technician_id))
    if isinstance(args, PatchWorkOrder):
        writes = args.writes(mutation.hlc, Party.ASSIGNEE)
        return replace(view, row=_write_fields(view.row, writes))
    raise AssertionError(f"unhandled mutation {mutation.name}")  # pragma: no cover


def _transition(
    row: Mapping[str, JSONValue],
    args: TransitionWorkOrder,
    hlc: HLC,
    technician_id: uuid.UUID,
) -> Mapping[str, JSONValue]:
    state = OrderStatusState(
        Status(str(row.get("status"))),
        _uuid(row.get("assignee_id")),
        _hlc(row.get("status_hlc")) if row.get("status_hlc") else None,
    )
    intent = TransitionIntent(
        args.action, Party.ASSIGNEE, args.base_status, hlc, actor_id=technician_id
    )
    decision = decide(state, intent)
    after = dict(row)
    if decision.state != state:
        after["status"] = decision.state.status.value
        after["assignee_id"] = _str(decision.state.assignee_id)
        after["status_hlc"] = _str(decision.state.status_hlc)
    writes: list[FieldWrite] = []
    if decision.plan is not None:
        stamp = format_timestamp(datetime.fromtimestamp(hlc.wall_ms / 1000, UTC))
        if decision.plan.clears_stamps:
            after.update(dict.fromkeys(STAMPS))
        if decision.plan.stamp:
            after[decision.plan.stamp] = stamp
        # The actuals the step sets, as the server will (its time may differ by skew, § 7.3).
        actuals = actual_writes(
            decision.plan.action, _str(row.get("actual_start")), _str(row.get("actual_end")), stamp
        )
        writes += [FieldWrite(name, value, hlc, Party.ASSIGNEE) for name, value in actuals.items()]
    kept_server = decision.conflict is not None and decision.conflict.kept is Kept.SERVER
    if args.resolution is not None and decision.outcome is not Outcome.REJECTED and not kept_server:
        # § 8.2: complete's resolution is a field write at the transition's HLC.
        writes.append(FieldWrite("resolution", args.resolution, hlc, Party.ASSIGNEE))
    return _write_fields(after, writes) if writes else MappingProxyType(after)


def _write_fields(
    row: Mapping[str, JSONValue], writes: Sequence[FieldWrite]
) -> Mapping[str, JSONValue]:
    stamps_raw = row.get("field_hlcs")
    stamps: dict[str, JSONValue] = dict(stamps_raw) if isinstance(stamps_raw, dict) else {}
    registers = {w.field: _register(row.get(w.field), stamps.get(w.field)) for w in writes}
    try:
        result = merge_patch(WORK_ORDER_FIELDS, registers, writes)
    except ProtocolError:
        return MappingProxyType(dict(row))  # refused as a whole (read-only field): no change
    after = dict(row)
    for name, register in result.registers.items():
        after[name] = register.value
        if register.hlc != ZERO:
            # The server's own shape for a field's stamp (api/workorders/stamps.py).
            stamps[name] = {"hlc": str(register.hlc), "party": register.party.value}
    after["field_hlcs"] = stamps
    return MappingProxyType(after)


def _register(value: JSONValue, stamp: JSONValue) -> Stamped:
    """A field's LWW register from the row; unstamped fields count as the office's at 0."""
    if isinstance(stamp, dict) and isinstance(stamp.get("hlc"), str):
        party = stamp.get("party")
        known = party if party in {p.value for p in Party} else Party.OFFICE.value
        return Stamped(value, _hlc(stamp["hlc"]), Party(str(known)))
    return Stamped(value, ZERO, Party.OFFICE)


def _created(args: CreateWorkOrder, mutation: Mutation) -> Mapping[str, JSONValue]:
    row: dict[str, JSONValue] = dict.fromkeys(WORK_ORDER_FIELDS)
    row.update(args.fields)
    row.update(
        id=str(args.id),
        status=Status.NEW.value,
        source="device",
        asset_ids=[str(a) for a in sorted(args.asset_ids)],
        status_hlc=str(mutation.hlc),
    )
    return MappingProxyType(row)


def _server_item(kind: EvidenceKind, image: Mapping[str, Any]) -> EvidenceItem:
    author_kind = str(image.get("author_kind") or "")
    party = Party.ASSIGNEE if author_kind in ("technician", "assignee", "device") else Party.OFFICE
    return EvidenceItem(
        kind,
        uuid.UUID(str(image["id"])),
        uuid.UUID(str(image["work_order_id"])),
        _uuid(image.get("author_id")),
        party,
        _hlc(image.get("hlc")),
        MappingProxyType(dict(image)),
    )


def _hlc(value: object) -> HLC:
    if isinstance(value, str) and value:
        try:
            return HLC.parse(value)
        except ProtocolError:
            return ZERO
    return ZERO


def _uuid(value: object) -> uuid.UUID | None:
    return uuid.UUID(value) if isinstance(value, str) and value else None


def _str(value: object) -> str | None:
    return None if value is None else str(value)
