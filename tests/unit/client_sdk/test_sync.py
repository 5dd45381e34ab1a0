"""The sync loop against a spec-following fake server: offline jobs, lost responses,
gaps after a server restore, batching, quarantine, conflicts, resets and repairs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from client_sdk.device import Device
from client_sdk.errors import AuthError, NetworkError, ServerError, ValidationError
from client_sdk.sync import Backoff, Callbacks, SyncReport
from sync_protocol.entities import Table, TombstoneReason
from sync_protocol.merge import Outcome
from sync_protocol.messages import MAX_BATCH, Mutation, Receipt
from sync_protocol.records import ResetRequired
from tests.unit.client_sdk.conftest import Wall
from tests.unit.client_sdk.fake_server import FakeServer


def _offline_job(device: Device, order_id: str, photo: Path, wall: Wall) -> None:
    """PROTOCOL.md § 16.1: the whole job, one step a minute, with no network."""
    steps = [
        lambda: device.transition(order_id, "accept"),
        lambda: device.transition(order_id, "start_travel"),
        lambda: device.transition(order_id, "arrive"),
        lambda: device.transition(order_id, "start_work"),
        lambda: device.record_reading(order_id, "pressure", "3.4", "bar"),
        lambda: device.record_part(order_id, "Valve seal", "2", "pcs"),
        lambda: device.attach_photo(order_id, photo),
        lambda: device.add_note(order_id, "Replaced both seals; pressure stable"),
        lambda: device.transition(order_id, "complete", resolution="Seals replaced"),
    ]
    for step in steps:
        wall.ms += 60_000
        step()


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "valve.jpg"
    path.write_bytes(b"\xff\xd8\xff" + b"jpeg bytes" * 100)
    return path


def test_a_whole_offline_job_shows_at_once_and_syncs_in_one_push(
    device: Device, server: FakeServer, wall: Wall, photo: Path
) -> None:
    order = server.order()
    device.sync()
    server.fail_before = lambda path: 503  # no signal from here on

    _offline_job(device, order["id"], photo, wall)

    view = device.job(order["id"])
    assert view.status is not None and view.status.value == "completed"
    assert view.row is not None and view.row["resolution"] == "Seals replaced"
    assert view.pending == 9
    assert len(view.evidence.visible()) == 4  # reading, part, photo, note
    with pytest.raises(ServerError):
        device.sync()
    assert device.outbox.report().pending == 9

    server.fail_before = None
    server.calls.clear()
    report = device.sync()

    assert report.receipts == {"applied": 9}
    assert [m.seq for m in server.applied] == list(range(1, 10))
    assert [c for c in server.calls if c[1] == "/v1/sync/push"] == [("POST", "/v1/sync/push")]
    assert server.blobs == {_sha(photo): photo.read_bytes()}
    synced = device.job(order["id"])
    assert synced.pending == 0
    assert synced.status is not None and synced.status.value == "completed"
    assert len(synced.evidence.visible()) == 4
    assert device.status()["pending_uploads"] == 0


def test_a_lost_push_response_is_resent_and_applied_once(
    device: Device, server: FakeServer, wall: Wall
) -> None:
    order = server.order()
    device.sync()
    device.transition(order["id"], "accept")
    device.add_note(order["id"], "on my way")
    server.drop_after = lambda path: path == "/v1/sync/push"

    with pytest.raises(NetworkError):
        device.sync()
    assert len(server.applied) == 2  # the server did commit
    assert device.outbox.report().pending == 2  # but the device does not know

    server.drop_after = None
    report = device.sync()

    assert report.receipts == {"applied": 2}  # the stored receipts, verbatim
    assert len(server.applied) == 2  # nothing ran twice
    assert device.outbox.report().pending == 0


def test_seq_gap_after_a_server_restore_resends_retained_mutations(
    device: Device, server: FakeServer
) -> None:
    order = server.order()
    device.sync()
    for n in range(5):
        device.add_note(order["id"], f"note {n}")
    device.sync()
    server.restore_backup(last_seq=2)  # notes 3-5 were lost with the server's disk
    device.add_note(order["id"], "note 5")

    report = device.sync()

    assert report.resent_from == 3
    assert [m.seq for m in server.applied] == [1, 2, 3, 4, 5, 6]
    assert server.last_seq == 6
    assert device.outbox.report().pending == 0


def test_pending_mutations_are_pushed_in_batches_of_at_most_max_batch(
    device: Device, server: FakeServer
) -> None:
    order = server.order()
    device.sync()
    for n in range(MAX_BATCH + 1):
        device.add_note(order["id"], f"n{n}")

    device.sync()

    pushes = [c for c in server.calls if c[1] == "/v1/sync/push"]
    assert len(pushes) == 2
    assert server.last_seq == MAX_BATCH + 1


def test_rejected_mutations_move_to_quarantine_and_never_block_the_rest(
    tmp_path: Path, server: FakeServer, wall: Wall
) -> None:
    seen: list[tuple[str, Mutation, Receipt]] = []
    callbacks = Callbacks(
        on_conflict=lambda m, r: seen.append(("conflict", m, r)),
        on_quarantine=lambda m, r: seen.append(("quarantine", m, r)),
    )
    device = Device(
        tmp_path / "p", transport=server.transport(), physical=wall, callbacks=callbacks
    )
    device.login("http://fieldline.test", "acme", "tech@acme.test", "pw")
    order = server.order()
    device.sync()
    device.add_note(order["id"], "fine")
    device.add_note(order["id"], "refused")
    device.transition(order["id"], "accept")

    def verdict(m: Mutation) -> tuple[Outcome, str | None]:
        if m.args.get("body") == "refused":
            return Outcome.REJECTED, "sync.not_in_scope"
        if m.name == "transition_work_order":
            return Outcome.CONFLICT, "sync.reassigned"
        return Outcome.APPLIED, None

    server.verdict = verdict
    report = device.sync()

    assert report.receipts == {"applied": 1, "rejected": 1, "conflict": 1}
    assert [(kind, m.seq) for kind, m, _ in seen] == [("quarantine", 2), ("conflict", 3)]
    parked = device.outbox.quarantined()
    assert [(q.mutation.seq, q.code) for q in parked] == [(2, "sync.not_in_scope")]
    assert device.outbox.report().pending == 0
    assert device.status()["conflicts"] == [
        {"seq": 3, "name": "transition_work_order", "code": "sync.reassigned", "conflict_ids": []}
    ]
    device.close()


def test_reset_with_push_first_pushes_then_drops_the_replica_and_reprimes(
    device: Device, server: FakeServer
) -> None:
    order = server.order()
    device.sync()
    device.add_note(order["id"], "keep me")
    device.store.conn.execute(
        "INSERT INTO rows (scope, tbl, id, version, row) "
        "VALUES ('taxonomy', 'categories', 'stale', 1, '{\"id\": \"stale\"}')"
    )
    server.reset = ResetRequired("sync.cursor_expired", "log pruned", True, 1)
    server.reset_paths = frozenset({"/v1/sync/pull"})

    report = device.sync()

    assert report.reset == "sync.cursor_expired"
    assert report.export is None
    assert [m.args["body"] for m in server.applied] == ["keep me"]
    assert device.replica.get("categories", "stale") is None
    assert device.job(order["id"]).row is not None  # re-primed
    assert device.outbox.report().pending == 0


def test_reset_without_push_first_exports_outbox_and_quarantine_then_reprimes(
    device: Device, server: FakeServer
) -> None:
    order = server.order()
    device.sync()
    device.add_note(order["id"], "unsent work")
    server.reset = ResetRequired("sync.device_retired", "retired by admin", False, 1)

    report = device.sync()

    assert report.reset == "sync.device_retired"
    assert report.export is not None
    exported = json.loads(report.export.read_text(encoding="utf-8"))
    assert [m["args"]["body"] for m in exported["pending"]] == ["unsent work"]
    assert server.applied == []  # nothing was pushed
    assert device.outbox.report().pending == 0
    assert [q.code for q in device.outbox.quarantined()] == ["sync.device_retired"]
    assert device.job(order["id"]).row is not None


def test_checksum_mismatch_repairs_the_scope_and_drops_rows_the_server_does_not_have(
    device: Device, server: FakeServer
) -> None:
    order = server.order()
    device.sync()
    # Corrupt the replica: a stale row the server never sent, and a changed image.
    conn = device.store.conn
    conn.execute(
        "INSERT INTO rows (scope, tbl, id, version, row) "
        "VALUES (?, 'sites', 's1', 1, '{\"id\":\"s1\"}')",
        (server.scope,),
    )
    conn.execute(
        "UPDATE rows SET row = json_set(row, '$.title', 'tampered') WHERE tbl = 'work_orders'"
    )
    server.order(title="another")

    report = device.sync()

    assert report.repaired == [server.scope]
    assert device.replica.get("sites", "s1") is None
    stored = device.replica.get(Table.WORK_ORDERS, order["id"])
    assert stored is not None and stored.row is not None and stored.row["title"] == "Boiler service"
    assert device.sync().repaired == []  # it now matches


def test_reassigned_order_with_pending_edits_stays_read_only_until_they_have_receipts(
    device: Device, server: FakeServer
) -> None:
    order = server.order()
    device.sync()
    device.add_note(order["id"], "done before I knew")
    server.tombstone(Table.WORK_ORDERS, order["id"], TombstoneReason.LEFT_SCOPE)
    server.fail_before = lambda path: 503 if path == "/v1/sync/push" else None
    device.engine.pull(SyncReport())

    held = device.job(order["id"])
    assert held.held and held.row is not None
    with pytest.raises(ValidationError, match=r"sdk\.reassigned"):
        device.add_note(order["id"], "more")

    server.fail_before = None
    device.sync()
    assert device.job(order["id"]).row is None
    assert [v.id for v in device.jobs()] == []


def test_run_backs_off_with_full_jitter_on_server_errors_and_recovers(
    device: Device, server: FakeServer
) -> None:
    order = server.order()
    failures = {"left": 3}

    def flaky(path: str) -> int | None:
        if failures["left"]:
            failures["left"] -= 1
            return 503
        return None

    server.fail_before = flaky
    sleeps: list[float] = []
    device.engine.run(
        backoff=Backoff(base_s=1.0, cap_s=5.0),
        rng=lambda: 1.0,  # the top of each jitter window, to see the windows grow
        sleep=sleeps.append,
        max_rounds=4,
    )
    assert sleeps == [1.0, 2.0, 4.0]
    assert device.job(order["id"]).row is not None
    assert device.status()["last_error"] is None


def test_run_stops_on_errors_retrying_cannot_fix(device: Device, server: FakeServer) -> None:
    server.revoked = True
    with pytest.raises(AuthError):
        device.engine.run(sleep=lambda s: None, max_rounds=3)


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
