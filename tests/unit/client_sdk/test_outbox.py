"""The durable outbox: seqs and HLCs never go backwards, mutations outlive a crash, receipts
settle them, and retained ones can be resent after a server restore."""

from __future__ import annotations

import itertools
import sqlite3
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from uuid_utils.compat import uuid7

from client_sdk.errors import FieldlineError, ValidationError
from client_sdk.outbox import RETAIN_ACKED_MS, Outbox
from client_sdk.store import Store
from sync_protocol.hlc import HLC
from sync_protocol.merge import Outcome
from sync_protocol.messages import Receipt
from sync_protocol.mutations import AddNote
from tests.unit.client_sdk.conftest import Wall

ORDER = uuid.UUID("01958e00-0000-7000-8000-000000000001")


def _v7() -> uuid.UUID:
    return uuid7()


# Each step: record some mutations, then maybe "crash" (drop the connection without
# closing it cleanly) and reopen; the phone's clock may jump backwards in between.
steps = st.lists(
    st.tuples(st.integers(0, 4), st.booleans(), st.integers(-3_600_000, 3_600_000)),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=steps)
def test_seq_and_hlc_strictly_increase_across_crashes_and_clock_jumps(
    tmp_path_factory: pytest.TempPathFactory, plan: list[tuple[int, bool, int]]
) -> None:
    path = tmp_path_factory.mktemp("outbox") / "device.db"
    wall = Wall()
    store = Store(path)
    outbox = Outbox(store, physical=wall)
    device_id = outbox.device_id
    recorded = []
    for count, crash, jump in plan:
        for _ in range(count):
            recorded.append(outbox.record(AddNote(_v7(), ORDER, "n")))
        wall.ms += jump
        if crash:
            store.conn.close()  # no clean shutdown: only committed state survives
            store = Store(path)
            outbox = Outbox(store, physical=wall)
            assert outbox.device_id == device_id  # generated once, kept forever
    seqs = [m.seq for m in recorded]
    assert seqs == list(range(1, len(recorded) + 1))
    hlcs = [m.hlc for m in recorded]
    assert all(a < b for a, b in itertools.pairwise(hlcs))
    assert [m.seq for m in outbox.pending()] == seqs  # every one survived
    store.close()


def test_a_mutation_is_committed_before_record_returns(tmp_path: Path) -> None:
    store = Store(tmp_path / "d.db")
    mutation = Outbox(store).record(AddNote(_v7(), ORDER, "durable"))
    # Another connection (another process, or the app after a crash) sees it at once.
    other = sqlite3.connect(tmp_path / "d.db")
    assert other.execute("SELECT seq, name FROM outbox").fetchall() == [(1, "add_note")]
    assert mutation.seq == 1
    other.close()
    store.close()


def test_an_invalid_mutation_is_refused_before_it_takes_a_seq(tmp_path: Path) -> None:
    store = Store(tmp_path / "d.db")
    outbox = Outbox(store)
    with pytest.raises(ValidationError) as refused:
        outbox.record(AddNote(_v7(), ORDER, "   "))
    assert refused.value.code == "sync.invalid_value"
    assert outbox.record(AddNote(_v7(), ORDER, "ok")).seq == 1
    store.close()


def test_the_clock_observes_server_time_and_keeps_it_across_restarts(tmp_path: Path) -> None:
    wall = Wall(1_000_000)
    store = Store(tmp_path / "d.db")
    outbox = Outbox(store, physical=wall)
    server_time = HLC(5_000_000, 7, "server")  # the phone's clock is far behind
    outbox.observe(server_time)
    store.close()

    reopened = Outbox(Store(tmp_path / "d.db"), physical=wall)
    assert reopened.record(AddNote(_v7(), ORDER, "after")).hlc > server_time
    reopened.store.close()


def test_receipts_acknowledge_or_quarantine_and_acknowledged_ones_are_kept_seven_days(
    tmp_path: Path,
) -> None:
    wall = Wall()
    store = Store(tmp_path / "d.db")
    outbox = Outbox(store, physical=wall)
    batch = [outbox.record(AddNote(_v7(), ORDER, f"n{i}")) for i in range(3)]
    receipts = [
        Receipt(1, Outcome.APPLIED),
        Receipt(2, Outcome.REJECTED, code="sync.not_in_scope", detail="gone"),
        Receipt(3, Outcome.CONFLICT, code="sync.reassigned"),
    ]
    with store.transaction():
        settled = outbox.settle(batch, receipts)

    assert [s.quarantined for s in settled] == [False, True, False]
    assert outbox.pending() == []
    assert [(q.mutation.seq, q.code) for q in outbox.quarantined()] == [(2, "sync.not_in_scope")]
    assert [m.seq for m, _ in outbox.acknowledged()] == [1, 3]

    assert outbox.prune(wall.ms + RETAIN_ACKED_MS - 1) == 0
    assert outbox.prune(wall.ms + RETAIN_ACKED_MS + 1) == 2
    assert outbox.record(AddNote(_v7(), ORDER, "next")).seq == 4  # seqs are never reused
    store.close()


def test_reopening_from_an_expected_seq_makes_retained_mutations_pending_again(
    tmp_path: Path,
) -> None:
    wall = Wall()
    store = Store(tmp_path / "d.db")
    outbox = Outbox(store, physical=wall)
    batch = [outbox.record(AddNote(_v7(), ORDER, f"n{i}")) for i in range(4)]
    receipts = [Receipt(m.seq, Outcome.APPLIED) for m in batch]
    receipts[2] = Receipt(3, Outcome.REJECTED, code="sync.not_in_scope")
    with store.transaction():
        outbox.settle(batch, receipts)

    assert outbox.reopen_from(2) == 3
    assert [m.seq for m in outbox.pending()] == [2, 3, 4]  # the quarantined one too
    assert [m.digest() for m in outbox.pending()] == [m.digest() for m in batch[1:]]

    with store.transaction():
        outbox.settle(batch, [Receipt(m.seq, Outcome.APPLIED) for m in batch])
    outbox.prune(wall.ms + RETAIN_ACKED_MS + 1)
    with pytest.raises(FieldlineError) as lost:
        outbox.reopen_from(2)
    assert lost.value.code == "sdk.outbox_pruned"
    store.close()
