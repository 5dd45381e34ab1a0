"""The pure merge rules for plain fields, evidence and pulled rows (PROTOCOL.md § 8).

* Plain fields are last-writer-wins *registers*, one per field, ordered by HLC
  (ties, which only a misbehaving client can cause, by the canonical JSON of the
  value, then the party), with ownership deciding who may write at all
  (:mod:`sync_protocol.ownership`).
  The register after any set of writes is the maximum of the permitted ones, so
  delivery order and duplicates never matter.
* Evidence (notes, parts, readings, time entries, photos) is an add-only set
  keyed by client ID plus a set of voids (a 2P-set): removal is a recorded void
  that hides the item forever and keeps it for the audit trail.
* Pulled rows and tombstones are ordered by the server's change number; a
  ``deleted`` tombstone is final, a ``left_scope`` one is not (the row may come back).

Status is not here: it is a state machine, see :mod:`sync_protocol.status_merge`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from sync_protocol.entities import EvidenceKind, TombstoneReason
from sync_protocol.errors import JSONValue, ProtocolError
from sync_protocol.hlc import HLC
from sync_protocol.ownership import FieldSpec, WriteRight, write_right
from sync_protocol.wire import canonical_json
from sync_protocol.workorder_status import Party


class Outcome(StrEnum):
    """A mutation's result; it is the ``status`` of its receipt."""

    APPLIED = "applied"  # took effect as sent
    DUPLICATE = "duplicate"  # its effect was already there; nothing changed
    MERGED = "merged"  # reconciled with concurrent changes by a documented rule
    CONFLICT = "conflict"  # a conflict record was made for a dispatcher
    REJECTED = "rejected"  # can never apply; quarantined


class FieldOutcome(StrEnum):
    APPLIED = "applied"  # the write is now the field's value
    DUPLICATE = "duplicate"  # the same write was already the value
    SUPERSEDED = "superseded"  # a later write holds the field; this one lost LWW
    PROPOSED = "proposed"  # not the writer's field: kept as a conflict record


@dataclass(frozen=True)
class Stamped:
    """A field's value and the write that set it."""

    value: JSONValue
    hlc: HLC
    party: Party


@dataclass(frozen=True)
class FieldWrite:
    field: str
    value: JSONValue  # already canonical (FieldSpec.read)
    hlc: HLC
    party: Party

    def stamped(self) -> Stamped:
        return Stamped(self.value, self.hlc, self.party)


@dataclass(frozen=True)
class FieldConflict:
    """A proposal to a field the writer does not own; the server's value is kept."""

    field: str
    server: Stamped | None
    device: FieldWrite
    code: str = "sync.field_not_owned"


@dataclass(frozen=True)
class FieldDecision:
    outcome: FieldOutcome
    register: Stamped | None  # the field after the write
    conflict: FieldConflict | None = None


def lww_key(stamped: Stamped) -> tuple[HLC, bytes, str]:
    """The total order of writes to one field: HLC, then the value's canonical bytes, then party.

    Distinct writes share an HLC only if a client misbehaves; the tie-breaks make
    every replica pick the same winner even then.
    """
    return stamped.hlc, canonical_json(stamped.value), stamped.party.value


def merge_field(spec: FieldSpec, current: Stamped | None, write: FieldWrite) -> FieldDecision:
    """One write against one register. Raises ``sync.field_read_only`` for a refused write."""
    right = write_right(spec, write.party)
    if right is WriteRight.REFUSED:
        raise ProtocolError(
            "sync.field_read_only", f"{write.party.value} cannot write {spec.name}", spec.name
        )
    if right is WriteRight.PROPOSAL:
        return FieldDecision(
            FieldOutcome.PROPOSED, current, FieldConflict(spec.name, current, write)
        )
    incoming = write.stamped()
    if current is None or lww_key(incoming) > lww_key(current):
        return FieldDecision(FieldOutcome.APPLIED, incoming)
    if lww_key(incoming) == lww_key(current):
        return FieldDecision(FieldOutcome.DUPLICATE, current)
    return FieldDecision(FieldOutcome.SUPERSEDED, current)


@dataclass(frozen=True)
class PatchResult:
    outcome: Outcome
    fields: Mapping[str, FieldOutcome]
    registers: Mapping[str, Stamped]  # every register of the entity after the patch
    conflicts: tuple[FieldConflict, ...]


def merge_patch(
    specs: Mapping[str, FieldSpec],
    registers: Mapping[str, Stamped],
    writes: Sequence[FieldWrite],
) -> PatchResult:
    """Several field writes of one mutation, atomically: one refused field refuses them all."""
    after = dict(registers)
    outcomes: dict[str, FieldOutcome] = {}
    conflicts: list[FieldConflict] = []
    for write in writes:
        spec = specs.get(write.field)
        if spec is None:
            raise ProtocolError("sync.unknown_field", f"No field {write.field!r}", write.field)
        decision = merge_field(spec, after.get(write.field), write)
        outcomes[write.field] = decision.outcome
        if decision.register is not None:
            after[write.field] = decision.register
        if decision.conflict is not None:
            conflicts.append(decision.conflict)
    return PatchResult(
        patch_outcome(outcomes.values()),
        MappingProxyType(outcomes),
        MappingProxyType(after),
        tuple(conflicts),
    )


def patch_outcome(outcomes: Iterable[FieldOutcome]) -> Outcome:
    """A mutation's receipt from its fields' outcomes (PROTOCOL.md § 8.2)."""
    seen = set(outcomes)
    if FieldOutcome.PROPOSED in seen:
        return Outcome.CONFLICT
    if seen == {FieldOutcome.APPLIED}:
        return Outcome.APPLIED
    if seen <= {FieldOutcome.DUPLICATE}:
        return Outcome.DUPLICATE
    return Outcome.MERGED


def merge_registers(a: Mapping[str, Stamped], b: Mapping[str, Stamped]) -> dict[str, Stamped]:
    """The join of two replicas' registers (what both converge to)."""
    merged = dict(a)
    for name, stamped in b.items():
        if name not in merged or lww_key(stamped) > lww_key(merged[name]):
            merged[name] = stamped
    return merged


@dataclass(frozen=True)
class EvidenceItem:
    kind: EvidenceKind
    id: uuid.UUID
    work_order_id: uuid.UUID
    author_id: uuid.UUID | None  # the technician or user who added it
    party: Party
    hlc: HLC
    content: Mapping[str, JSONValue] = field(default_factory=dict)

    def order_key(self) -> tuple[HLC, bytes]:
        return self.hlc, canonical_json(dict(self.content))


@dataclass(frozen=True)
class Void:
    """The recorded removal of one evidence item; the item stays for the audit trail."""

    kind: EvidenceKind
    id: uuid.UUID
    actor_id: uuid.UUID | None
    party: Party
    hlc: HLC
    reason: str


def may_void(item: EvidenceItem, void: Void) -> bool:
    """The office may void anything; a technician only what they added."""
    if void.party is Party.OFFICE:
        return True
    return (
        void.party is Party.ASSIGNEE
        and item.author_id is not None
        and (item.author_id == void.actor_id)
    )


@dataclass(frozen=True)
class EvidenceChange:
    outcome: Outcome
    evidence: EvidenceSet
    code: str | None = None


@dataclass(frozen=True)
class EvidenceSet:
    items: Mapping[uuid.UUID, EvidenceItem] = field(default_factory=dict)
    voids: Mapping[uuid.UUID, Void] = field(default_factory=dict)

    def add(self, item: EvidenceItem) -> EvidenceChange:
        """Append ``item``; the same item again is a duplicate, another under its ID is refused."""
        existing = self.items.get(item.id)
        if existing is None:
            return EvidenceChange(Outcome.APPLIED, self._with(item=item))
        if existing == item:
            return EvidenceChange(Outcome.DUPLICATE, self)
        return EvidenceChange(Outcome.REJECTED, self, "sync.id_reused")

    def void(self, void: Void) -> EvidenceChange:
        """Record ``void``; unknown or other-kind IDs and other authors' items are refused."""
        item = self.items.get(void.id)
        if item is None or item.kind is not void.kind:
            return EvidenceChange(Outcome.REJECTED, self, "sync.not_in_scope")
        if not may_void(item, void):
            return EvidenceChange(Outcome.REJECTED, self, "sync.void_forbidden")
        if void.id in self.voids:
            return EvidenceChange(Outcome.DUPLICATE, self)
        return EvidenceChange(Outcome.APPLIED, self._with(void=void))

    def merge(self, other: EvidenceSet) -> EvidenceSet:
        """The join of two sets: union of items and of voids (earliest wins on a shared ID)."""
        items = dict(self.items)
        for item in other.items.values():
            if item.id not in items or item.order_key() < items[item.id].order_key():
                items[item.id] = item
        voids = dict(self.voids)
        for void in other.voids.values():
            if void.id not in voids or void.hlc < voids[void.id].hlc:
                voids[void.id] = void
        return EvidenceSet(MappingProxyType(items), MappingProxyType(voids))

    def visible(self) -> list[EvidenceItem]:
        """Items not voided, in HLC order (then ID), the order a report lists them."""
        live = [item for item in self.items.values() if item.id not in self.voids]
        return sorted(live, key=lambda item: (item.hlc, item.id))

    def _with(self, *, item: EvidenceItem | None = None, void: Void | None = None) -> EvidenceSet:
        items, voids = dict(self.items), dict(self.voids)
        if item is not None:
            items[item.id] = item
        if void is not None:
            voids[void.id] = void
        return EvidenceSet(MappingProxyType(items), MappingProxyType(voids))


@dataclass(frozen=True)
class RowState:
    """What a replica holds for one row: its image at a change number, or a tombstone."""

    version: int  # the server change number that produced this state
    row: Mapping[str, JSONValue] | None  # None for a tombstone
    tombstone: TombstoneReason | None = None


def apply_pulled(current: RowState | None, incoming: RowState) -> RowState:
    """A pulled upsert or tombstone against a replica's row (PROTOCOL.md § 8.4).

    The higher change number wins, so re-delivered pages are harmless. A
    ``deleted`` tombstone absorbs everything, whichever side it is on (IDs are
    never reused, so nothing legitimately follows it), while a row that left
    the scope may come back with a later change.
    """
    if current is None:
        return incoming
    current_gone = current.tombstone is TombstoneReason.DELETED
    incoming_gone = incoming.tombstone is TombstoneReason.DELETED
    if current_gone != incoming_gone:
        return current if current_gone else incoming
    return incoming if incoming.version > current.version else current
