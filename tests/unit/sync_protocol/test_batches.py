"""Push batches: refused whole or split into replays and fresh mutations, never half-applied."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync_protocol.batches import check_device, plan_batch
from sync_protocol.errors import ProtocolError
from sync_protocol.hlc import HLC
from sync_protocol.messages import MAX_BATCH, Mutation


def batch(*seqs: int, body: str = "x") -> list[Mutation]:
    return [Mutation(seq, HLC(seq, 0, "dev"), "add_note", {"body": body}) for seq in seqs]


def digests(mutations: list[Mutation]) -> dict[int, str]:
    return {m.seq: m.digest() for m in mutations}


def test_a_fresh_batch_runs_whole() -> None:
    planned = plan_batch(batch(1, 2, 3), 0, {}.get)
    assert (planned.replays, [m.seq for m in planned.fresh]) == ((), [1, 2, 3])


def test_a_batch_resent_after_a_lost_response_is_all_replays() -> None:
    sent = batch(1, 2, 3)
    planned = plan_batch(sent, 3, digests(sent).get)
    assert (list(planned.replays), planned.fresh) == (sent, ())


def test_a_resent_batch_with_new_mutations_appended_replays_the_old_and_runs_the_new() -> None:
    sent = batch(4, 5, 6, 7)
    planned = plan_batch(sent, 5, digests(sent).get)
    assert [m.seq for m in planned.replays] == [4, 5]
    assert [m.seq for m in planned.fresh] == [6, 7]


def test_a_replay_whose_receipt_was_pruned_is_still_a_replay() -> None:
    assert len(plan_batch(batch(1), 9, lambda seq: None).replays) == 1


@pytest.mark.parametrize(
    ("seqs", "last_seq", "code", "field", "expected"),
    [
        ((12, 13), 9, "sync.seq_gap", "mutations[0].seq", 10),
        ((10, 12), 9, "sync.seq_gap", "mutations[1].seq", 11),
        ((10, 10), 9, "sync.seq_out_of_order", "mutations[1].seq", None),
        ((11, 10), 9, "sync.seq_out_of_order", "mutations[1].seq", None),
    ],
)
def test_gaps_and_disorder_refuse_the_whole_batch(
    seqs: tuple[int, ...], last_seq: int, code: str, field: str, expected: int | None
) -> None:
    with pytest.raises(ProtocolError) as refused:
        plan_batch(batch(*seqs), last_seq, {}.get)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert refused.value.extra.get("expected_seq") == expected


def test_a_processed_seq_resent_with_other_content_is_refused() -> None:
    stored = digests(batch(1, 2))
    with pytest.raises(ProtocolError) as refused:
        plan_batch(batch(1, 2, body="changed"), 2, stored.get)
    assert (refused.value.code, refused.value.field) == ("sync.seq_reused", "mutations[0]")


def test_an_oversized_batch_is_refused() -> None:
    with pytest.raises(ProtocolError) as refused:
        plan_batch(batch(*range(1, MAX_BATCH + 2)), 0, {}.get)
    assert refused.value.code == "sync.batch_too_large"


def test_a_body_speaking_for_another_device_is_refused() -> None:
    device = uuid.UUID(int=1)
    check_device(device, device)
    with pytest.raises(ProtocolError) as refused:
        check_device(uuid.UUID(int=2), device)
    assert refused.value.code == "sync.device_mismatch"


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 30), st.integers(1, 40), st.integers(0, 12))
def test_every_seq_is_run_exactly_once_however_often_batches_are_resent(
    last_seq: int, first: int, size: int
) -> None:
    """Fresh mutations always continue from last_seq; replays are exactly those at or below."""
    sent = batch(*range(first, first + size))
    try:
        planned = plan_batch(sent, last_seq, digests(sent).get)
    except ProtocolError as refused:
        assert refused.code == "sync.seq_gap" and first > last_seq + 1
        return
    assert [m.seq for m in planned.replays] == [m.seq for m in sent if m.seq <= last_seq]
    if planned.fresh:
        assert planned.fresh[0].seq == last_seq + 1
