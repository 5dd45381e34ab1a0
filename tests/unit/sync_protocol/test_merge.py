"""Field, evidence and pulled-row merges: idempotent, order-independent, and owned."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync_protocol.entities import EvidenceKind, TombstoneReason
from sync_protocol.errors import ProtocolError
from sync_protocol.hlc import HLC
from sync_protocol.merge import (
    EvidenceItem,
    EvidenceSet,
    FieldOutcome,
    FieldWrite,
    Outcome,
    RowState,
    Stamped,
    Void,
    apply_pulled,
    merge_field,
    merge_patch,
    merge_registers,
    patch_outcome,
)
from sync_protocol.ownership import (
    PATCHABLE_FIELDS,
    WORK_ORDER_FIELDS,
    Owner,
    WriteRight,
    write_right,
)
from sync_protocol.workorder_status import Party

FAST = settings(max_examples=200, deadline=None)
OFFICE_FIELDS = sorted(n for n in PATCHABLE_FIELDS if WORK_ORDER_FIELDS[n].owner is Owner.OFFICE)
TECH_FIELDS = sorted(n for n in PATCHABLE_FIELDS if WORK_ORDER_FIELDS[n].owner is Owner.ASSIGNEE)

stamps = st.builds(
    HLC,
    st.integers(1_741_700_000_000, 1_741_700_000_050),
    st.integers(0, 3),
    st.sampled_from(["server", "dev-a", "dev-b"]),
)
writes = st.builds(
    FieldWrite,
    st.sampled_from(["title", "priority", "resolution", "actual_end"]),
    st.sampled_from(["a", "b", "high"]),
    stamps,
    st.sampled_from([Party.OFFICE, Party.ASSIGNEE]),
)


def replay(order: list[FieldWrite]) -> tuple[dict[str, Stamped], list[FieldWrite]]:
    """Apply writes one by one as the server would; return registers and proposals."""
    registers: dict[str, Stamped] = {}
    proposals: list[FieldWrite] = []
    for write in order:
        result = merge_patch(WORK_ORDER_FIELDS, registers, [write])
        registers = dict(result.registers)
        proposals += [conflict.device for conflict in result.conflicts]
    return registers, proposals


@FAST
@given(st.lists(writes, max_size=12))
def test_applying_the_same_writes_twice_equals_applying_them_once(order: list[FieldWrite]) -> None:
    once, _ = replay(order)
    twice, _ = replay(order + order)
    assert once == twice


@FAST
@given(st.lists(writes, max_size=12), st.randoms(use_true_random=False))
def test_any_delivery_order_with_duplicates_converges(order: list[FieldWrite], rng: Any) -> None:
    shuffled = order + rng.sample(order, k=len(order) // 2)
    rng.shuffle(shuffled)
    (first, proposals_a), (second, proposals_b) = replay(order), replay(shuffled)
    assert first == second
    assert set(proposals_a) == set(proposals_b)


@FAST
@given(st.lists(writes, max_size=8), st.lists(writes, max_size=8))
def test_replicas_that_saw_different_writes_converge_when_joined(
    left: list[FieldWrite], right: list[FieldWrite]
) -> None:
    a, _ = replay(left)
    b, _ = replay(right)
    assert merge_registers(a, b) == merge_registers(b, a) == replay(left + right)[0]


@FAST
@given(
    st.sampled_from(OFFICE_FIELDS),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
)
def test_a_technician_write_never_overwrites_an_office_field_whatever_the_clocks(
    name: str, office_ms: int, device_ms: int
) -> None:
    spec = WORK_ORDER_FIELDS[name]
    office = Stamped(_value(name, "office"), HLC(office_ms, 0, "server"), Party.OFFICE)
    stale = FieldWrite(name, _value(name, "device"), HLC(device_ms, 0, "dev"), Party.ASSIGNEE)
    decision = merge_field(spec, office, stale)
    assert decision.outcome is FieldOutcome.PROPOSED
    assert decision.register == office
    assert decision.conflict is not None and decision.conflict.code == "sync.field_not_owned"
    assert decision.conflict.server == office and decision.conflict.device == stale


def _value(name: str, who: str) -> str:
    kind = WORK_ORDER_FIELDS[name].kind.value
    return {
        "text": who,
        "priority": "high" if who == "office" else "low",
        "uuid": "01958d00-0000-7000-8000-0000000000aa"
        if who == "office"
        else str(uuid.UUID(int=1)),
        "timestamp": "2025-03-12T16:00:00Z" if who == "office" else "2025-03-12T14:00:00Z",
    }[kind]


def test_an_older_technician_write_to_its_own_field_loses_to_a_newer_office_correction() -> None:
    spec = WORK_ORDER_FIELDS["actual_start"]
    office = Stamped("2025-03-12T09:05:00Z", HLC(2_000, 0, "server"), Party.OFFICE)
    stale = FieldWrite("actual_start", "2025-03-12T09:03:00Z", HLC(1_000, 0, "dev"), Party.ASSIGNEE)
    assert merge_field(spec, office, stale).outcome is FieldOutcome.SUPERSEDED
    newer = FieldWrite("actual_start", "2025-03-12T09:04:00Z", HLC(3_000, 0, "dev"), Party.ASSIGNEE)
    assert merge_field(spec, office, newer).outcome is FieldOutcome.APPLIED


@pytest.mark.parametrize(
    ("owner", "writer", "right"),
    [
        (Owner.OFFICE, Party.OFFICE, WriteRight.LWW),
        (Owner.OFFICE, Party.ASSIGNEE, WriteRight.PROPOSAL),
        (Owner.ASSIGNEE, Party.ASSIGNEE, WriteRight.LWW),
        (Owner.ASSIGNEE, Party.OFFICE, WriteRight.LWW),
        (Owner.OFFICE, Party.CUSTOMER, WriteRight.REFUSED),
        (Owner.SERVER, Party.OFFICE, WriteRight.REFUSED),
        (Owner.STATE_MACHINE, Party.OFFICE, WriteRight.REFUSED),
    ],
)
def test_write_rights_follow_the_declared_owner(
    owner: Owner, writer: Party, right: WriteRight
) -> None:
    spec = next(s for s in WORK_ORDER_FIELDS.values() if s.owner is owner)
    assert write_right(spec, writer) is (right if spec.patchable else WriteRight.REFUSED)


def test_the_declared_owners_are_the_ones_the_spec_promises() -> None:
    assert set(OFFICE_FIELDS) == {
        "title", "description", "category_id", "priority",
        "requested_start", "requested_end", "scheduled_start", "scheduled_end",
    }  # fmt: skip
    assert set(TECH_FIELDS) == {"resolution", "actual_start", "actual_end"}
    assert WORK_ORDER_FIELDS["assignee_id"].owner is Owner.OFFICE
    for name in ("number", "sla_due_at", "completed_at", "closed_at", "cancelled_at"):
        assert WORK_ORDER_FIELDS[name].owner is Owner.SERVER
    assert WORK_ORDER_FIELDS["status"].owner is Owner.STATE_MACHINE


def test_a_patch_with_one_read_only_field_changes_nothing() -> None:
    good = FieldWrite("resolution", "done", HLC(5, 0, "dev"), Party.ASSIGNEE)
    bad = FieldWrite("sla_due_at", "2025-01-01T00:00:00Z", HLC(5, 0, "dev"), Party.OFFICE)
    with pytest.raises(ProtocolError) as refused:
        merge_patch(WORK_ORDER_FIELDS, {}, [good, bad])
    assert refused.value.code == "sync.field_read_only"


@pytest.mark.parametrize(
    ("outcomes", "receipt"),
    [
        ([FieldOutcome.APPLIED, FieldOutcome.APPLIED], Outcome.APPLIED),
        ([FieldOutcome.DUPLICATE], Outcome.DUPLICATE),
        ([FieldOutcome.APPLIED, FieldOutcome.SUPERSEDED], Outcome.MERGED),
        ([FieldOutcome.DUPLICATE, FieldOutcome.APPLIED], Outcome.MERGED),
        ([FieldOutcome.APPLIED, FieldOutcome.PROPOSED], Outcome.CONFLICT),
    ],
)
def test_a_patch_receipt_summarises_its_fields(
    outcomes: list[FieldOutcome], receipt: Outcome
) -> None:
    assert patch_outcome(outcomes) is receipt


def test_equal_clocks_break_ties_by_value_so_replicas_agree() -> None:
    spec = WORK_ORDER_FIELDS["resolution"]
    same = HLC(7, 0, "dev")
    a = FieldWrite("resolution", "a", same, Party.ASSIGNEE)
    b = FieldWrite("resolution", "b", same, Party.ASSIGNEE)
    assert merge_field(spec, a.stamped(), b).register == b.stamped()
    assert merge_field(spec, b.stamped(), a).register == b.stamped()
    assert merge_field(spec, a.stamped(), a).outcome is FieldOutcome.DUPLICATE


# Evidence: a 2P-set keyed by client ID.
TECH_A, TECH_B = uuid.UUID(int=0xA), uuid.UUID(int=0xB)
ORDER = uuid.UUID(int=0x1)


def _item(n: int) -> EvidenceItem:
    """Item ``n``: content is a function of the ID, as for well-behaved clients."""
    author = TECH_A if n % 2 else TECH_B
    kind = list(EvidenceKind)[n % len(EvidenceKind)]
    return EvidenceItem(kind, uuid.UUID(int=1000 + n), ORDER, author, Party.ASSIGNEE,
                        HLC(n, 0, "dev"), {"n": n})  # fmt: skip


def _void(n: int, by_office: bool) -> Void:
    item = _item(n)
    party, actor = (Party.OFFICE, None) if by_office else (Party.ASSIGNEE, item.author_id)
    return Void(item.kind, item.id, actor, party, HLC(100 + n, 0, "x"), "mistake")


events = st.lists(
    st.tuples(st.sampled_from(["add", "void"]), st.integers(0, 9), st.booleans()), max_size=25
)


def build(ops: list[tuple[str, int, bool]]) -> EvidenceSet:
    evidence = EvidenceSet()
    for kind, n, by_office in ops:
        change = evidence.add(_item(n)) if kind == "add" else evidence.void(_void(n, by_office))
        evidence = change.evidence
    return evidence


@FAST
@given(events, st.randoms(use_true_random=False))
def test_evidence_converges_in_any_order_once_every_add_precedes_its_void(
    ops: list[tuple[str, int, bool]], rng: Any
) -> None:
    adds = [op for op in ops if op[0] == "add"]
    voids = [op for op in ops if op[0] == "void"]
    shuffled_adds, shuffled_voids = rng.sample(adds, len(adds)), rng.sample(voids, len(voids))
    a = build(adds + voids)
    b = build(shuffled_adds + shuffled_adds + shuffled_voids + shuffled_voids)
    assert a.visible() == b.visible()
    assert set(a.voids) == set(b.voids)


@FAST
@given(events, events)
def test_joining_evidence_sets_is_commutative_and_idempotent(
    left: list[tuple[str, int, bool]], right: list[tuple[str, int, bool]]
) -> None:
    a, b = build(left), build(right)
    assert a.merge(b).visible() == b.merge(a).visible()
    assert a.merge(a).visible() == a.visible()
    assert a.merge(b).merge(b) == a.merge(b)


def test_a_void_hides_an_item_but_keeps_it_and_cannot_be_undone_by_a_replay() -> None:
    evidence = build([("add", 1, False), ("void", 1, False), ("add", 1, False)])
    assert evidence.visible() == [] and uuid.UUID(int=1001) in evidence.items


def test_only_the_author_or_the_office_may_void() -> None:
    evidence = build([("add", 1, False)])
    stranger = Void(
        EvidenceKind.PART, uuid.UUID(int=1001), TECH_B, Party.ASSIGNEE, HLC(9, 0, "b"), "x"
    )
    refused = evidence.void(stranger)
    assert (refused.outcome, refused.code) == (Outcome.REJECTED, "sync.void_forbidden")
    assert evidence.void(_void(1, by_office=True)).outcome is Outcome.APPLIED
    unknown = evidence.void(_void(7, by_office=True))
    assert (unknown.outcome, unknown.code) == (Outcome.REJECTED, "sync.not_in_scope")


def test_a_client_id_reused_for_different_content_is_refused_and_changes_nothing() -> None:
    evidence = build([("add", 1, False)])
    imposter = EvidenceItem(EvidenceKind.PART, uuid.UUID(int=1001), ORDER, TECH_A,
                            Party.ASSIGNEE, HLC(1, 0, "dev"), {"n": 2})  # fmt: skip
    change = evidence.add(imposter)
    assert (change.outcome, change.code) == (Outcome.REJECTED, "sync.id_reused")
    assert change.evidence == evidence


# Pulled rows: ordered by change number; a deletion is final.
row_states = st.builds(
    RowState,
    st.integers(1, 20),
    st.none() | st.just({"id": "x"}),
    st.none() | st.sampled_from(list(TombstoneReason)),
).filter(lambda s: (s.row is None) == (s.tombstone is not None))


@FAST
@given(st.lists(row_states, min_size=1, max_size=10), st.randoms(use_true_random=False))
def test_pulled_rows_converge_whatever_order_pages_are_redelivered_in(
    states: list[RowState], rng: Any
) -> None:
    states = list({s.version: s for s in states}.values())  # one state per change number

    def fold(order: list[RowState]) -> RowState | None:
        current: RowState | None = None
        for state in order:
            current = apply_pulled(current, state)
        return current

    shuffled = rng.sample(states, len(states)) * 2
    deleted = [s for s in states if s.tombstone is TombstoneReason.DELETED]
    expected = max(deleted or states, key=lambda s: s.version)
    assert fold(states) == fold(shuffled) == expected


def test_a_row_that_left_the_scope_may_come_back_but_a_deleted_one_may_not() -> None:
    left = RowState(5, None, TombstoneReason.LEFT_SCOPE)
    back = RowState(9, {"id": "x"})
    assert apply_pulled(left, back) == back
    gone = RowState(5, None, TombstoneReason.DELETED)
    assert apply_pulled(gone, back) == gone
