"""The sync loop: push the outbox, upload photo bytes, pull every scope to its checkpoint.

:meth:`SyncEngine.sync_once` is one round (PROTOCOL.md § 6, § 7, § 11):

1. **push** pending mutations in seq order, in batches of at most ``MAX_BATCH`` (1000), with
   the outbox report and the device's physical time; receipts settle them
   (acknowledged, or quarantined when rejected) in the same transaction in
   which the clock observes ``server_time``. A push whose answer was lost is
   simply sent again: the server answers replays with the stored receipts. A
   ``sync.seq_gap`` naming ``expected_seq`` (a server restored from a backup)
   makes the retained mutations from there pending again and resends them;
2. **upload** due photo bytes (never blocking 1 or 3);
3. **pull** ``technician:<id>`` and ``taxonomy`` page by page, each page
   applied atomically with its cursors, until the checkpoint; scopes whose
   checksum differs are repaired by a full re-pull.

A 409 ``reset_required`` pushes first when allowed (else exports the outbox and
quarantine to a JSON file and parks what cannot be pushed), drops the replica
and re-primes it. :meth:`SyncEngine.run` repeats rounds with exponential backoff
and full jitter on network errors and 5xx. Every step commits before the next
starts, so a crash anywhere leaves a file that the next round simply continues.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from client_sdk.errors import ConflictError, FieldlineError, RateLimitedError, ResetRequiredError
from client_sdk.http import FieldlineClient
from client_sdk.outbox import Outbox, Settled
from client_sdk.positions import PositionBuffer, PositionResult
from client_sdk.replica import Replica
from client_sdk.store import REPLICA_SCHEMA, Store
from client_sdk.uploads import UploadQueue, UploadResult
from sync_protocol.hlc import PhysicalClock, system_ms
from sync_protocol.merge import Outcome
from sync_protocol.messages import (
    MAX_BATCH,
    MAX_PULL_LIMIT,
    Mutation,
    PullRequest,
    PushRequest,
    Receipt,
)
from sync_protocol.records import ResetRequired
from sync_protocol.scopes import TAXONOMY, technician_scope

MutationCallback = Callable[[Mutation, Receipt], None]
ResetCallback = Callable[[ResetRequired, Path | None], None]


@dataclass
class Callbacks:
    on_conflict: MutationCallback | None = None  # receipt ``conflict`` (see conflict_ids)
    on_quarantine: MutationCallback | None = None  # receipt ``rejected``: parked locally
    on_reset: ResetCallback | None = None  # the replica was rebuilt (and maybe exported)


@dataclass
class SyncReport:
    receipts: Counter[str] = field(default_factory=Counter)  # by receipt status
    resent_from: int | None = None  # after sync.seq_gap
    changes: int = 0  # pulled changes applied (or skipped as already there)
    pages: int = 0
    repaired: list[str] = field(default_factory=list)
    uploads: UploadResult = field(default_factory=UploadResult)
    positions: PositionResult = field(default_factory=PositionResult)
    reset: str | None = None  # the reset reason handled in this round
    export: Path | None = None


@dataclass(frozen=True)
class Backoff:
    base_s: float = 1.0
    cap_s: float = 300.0

    def delay(self, attempt: int, rng: Callable[[], float]) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
        ceiling = min(self.cap_s, self.base_s * float(2 ** min(attempt, 30)))
        return float(rng()) * ceiling


class SyncEngine:
    def __init__(
        self,
        store: Store,
        client: FieldlineClient,
        technician_id: uuid.UUID,
        *,
        export_dir: Path,
        uploads: UploadQueue,
        outbox: Outbox | None = None,
        callbacks: Callbacks | None = None,
        physical: PhysicalClock = system_ms,
        batch_size: int = MAX_BATCH,
        pull_limit: int = MAX_PULL_LIMIT,  # fewer round trips on slow links
    ) -> None:
        self.store = store
        self.client = client
        self.outbox = outbox or Outbox(store, physical=physical)
        self.replica = Replica(store)
        self.uploads = uploads
        self.positions = PositionBuffer(store)
        self.technician_id = technician_id
        self.export_dir = export_dir
        self.callbacks = callbacks or Callbacks()
        self._physical = physical
        self.batch_size = min(batch_size, MAX_BATCH)
        self.pull_limit = pull_limit

    @property
    def scopes(self) -> list[str]:
        return [str(technician_scope(self.technician_id)), str(TAXONOMY)]

    def sync_once(self) -> SyncReport:
        report = SyncReport()
        try:
            self._round(report)
        except ResetRequiredError as error:
            self._reset(error.reset, report)
        self.outbox.prune()
        self.replica.release_held()
        with self.store.transaction():
            self.store.put("last_sync_ms", str(self._physical()))
        return report

    def run(
        self,
        *,
        stop: threading.Event | None = None,
        interval_s: float = 30.0,
        backoff: Backoff | None = None,
        rng: Callable[[], float] = random.random,
        sleep: Callable[[float], None] = time.sleep,
        max_rounds: int | None = None,
    ) -> None:
        """Sync until ``stop`` is set (or ``max_rounds``); retry transient failures with
        exponential backoff and full jitter. Errors that retrying cannot fix are raised."""
        backoff = backoff or Backoff()
        attempt = rounds = 0
        while not (stop and stop.is_set()) and (max_rounds is None or rounds < max_rounds):
            rounds += 1
            try:
                self.sync_once()
            except FieldlineError as error:
                if not error.retryable:
                    raise
                delay = backoff.delay(attempt, rng)
                if isinstance(error, RateLimitedError):
                    delay = max(delay, error.retry_after)
                attempt += 1
                with self.store.transaction():
                    self.store.put("last_error", f"{error.code}: {error.detail}")
                sleep(delay)
                continue
            attempt = 0
            with self.store.transaction():
                self.store.put("last_error", None)
            if max_rounds is None or rounds < max_rounds:
                sleep(interval_s)

    # --- one round ----------------------------------------------------------------------

    def _round(self, report: SyncReport) -> None:
        self.push(report)
        report.uploads = self.uploads.run_due(self.client)
        report.positions = self.positions.flush(self.client, self.outbox.device_id)
        self.pull(report)

    def push(self, report: SyncReport) -> None:
        """Push every pending mutation, batch by batch, until none is left."""
        resent = False
        while batch := self.outbox.pending(self.batch_size):
            request = PushRequest(
                self.outbox.device_id,
                tuple(batch),
                schema=REPLICA_SCHEMA,
                device_time_ms=self._physical(),
                outbox=self.outbox.report(),
            )
            try:
                response = self.client.push(request)
            except ConflictError as error:
                expected = error.expected_seq
                if error.code != "sync.seq_gap" or expected is None or resent:
                    raise
                # The server lost what we sent (restored from a backup): resend from there.
                self.outbox.reopen_from(expected)
                report.resent_from, resent = expected, True
                continue
            with self.store.transaction():
                self.outbox.observe(response.server_time)
                settled = self.outbox.settle(batch, response.receipts)
            self._notify(settled, report)
            if not settled:
                raise FieldlineError("sdk.no_receipts", "The server answered no receipt")

    def pull(self, report: SyncReport) -> None:
        """Pull every scope to its checkpoint; repair scopes whose checksum differs (once).

        After a push in the same round the pull asks for a fresh answer: the pushed
        mutations are no longer laid over the view, so the server's images of their
        effect must come now, not from a quiet poll another worker answered from
        memory before the push's notice reached it.
        """
        fresh = bool(report.receipts)
        cursors = self.replica.cursors(self.scopes)
        repairing: frozenset[str] = frozenset()
        repaired_once: set[str] = set()
        while True:
            page = self.client.pull(
                PullRequest(
                    self.outbox.device_id,
                    cursors,
                    self.pull_limit,
                    schema=REPLICA_SCHEMA,
                    device_time_ms=self._physical(),
                    outbox=self.outbox.report(),
                ),
                fresh=fresh,
            )
            with self.store.transaction():
                self.outbox.observe(page.server_time)
                self.replica.apply_page(page, repairing)
            report.pages += 1
            report.changes += len(page.changes)
            cursors.update(page.cursors)
            if page.checkpoint is None:
                continue
            for scope in repairing:
                self.replica.finish_repair(scope)
                report.repaired.append(scope)
            bad = self.replica.mismatched(page.checkpoint)
            if not bad:
                return
            if repaired_once & set(bad):
                raise FieldlineError("sdk.checksum_mismatch", f"Still differs after repair: {bad}")
            for scope in bad:
                self.replica.begin_repair(scope)
            repaired_once |= set(bad)
            repairing = frozenset(bad)
            cursors = dict.fromkeys(bad)

    def export(self, reason: str = "manual") -> Path:
        """Write the outbox (pending and retained) and the quarantine to a JSON file."""
        now = self._physical()
        body = {
            "device_id": str(self.outbox.device_id),
            "technician_id": str(self.technician_id),
            "exported_ms": now,
            "reason": reason,
            "pending": [m.to_json() for m in self.outbox.pending()],
            "acknowledged": [
                {"mutation": m.to_json(), "receipt": r.to_json()}
                for m, r in self.outbox.acknowledged()
            ],
            "quarantine": [q.to_json() for q in self.outbox.quarantined()],
        }
        self.export_dir.mkdir(parents=True, exist_ok=True)
        path = self.export_dir / f"outbox-{self.outbox.device_id}-{now}.json"
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")
        partial.replace(path)
        return path

    # --- internals ----------------------------------------------------------------------

    def _reset(self, reset: ResetRequired, report: SyncReport) -> None:
        """§ 12: nothing is discarded before it is pushed or exported."""
        report.reset = reset.reason
        pushed = False
        if reset.push_first:
            try:
                self.push(report)
                pushed = True
            except ResetRequiredError:
                pushed = False  # the server stopped taking pushes meanwhile: export instead
        if not pushed:
            report.export = self.export(reset.reason)
            self.outbox.quarantine_pending(reset.reason, reset.detail)
        self.replica.drop(reset.scopes or None)
        self.pull(report)
        if self.callbacks.on_reset:
            self.callbacks.on_reset(reset, report.export)

    def _notify(self, settled: list[Settled], report: SyncReport) -> None:
        for item in settled:
            report.receipts[item.receipt.status.value] += 1
            if item.receipt.status is Outcome.CONFLICT and self.callbacks.on_conflict:
                self.callbacks.on_conflict(item.mutation, item.receipt)
            if item.quarantined and self.callbacks.on_quarantine:
                self.callbacks.on_quarantine(item.mutation, item.receipt)
