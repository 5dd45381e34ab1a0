"""One technician's device in a chaos run: offline work, syncs at random points, crashes.

A :class:`Phone` owns one SDK :class:`~client_sdk.device.Device` (its own home
folder) and runs in its own thread, because a device's SQLite connection
belongs to the thread that opened it. It records M mutations chosen from what
the technician *sees* (the SDK's rebased view): the next field step of an order,
notes, parts, readings, time entries and now and then a patch that proposes
office fields. After a write it may sync (retrying with the SDK's backoff
through dropped requests and a server restart) or "crash": the ``Device`` is
dropped without syncing and reopened from its folder. A crash can also come
from inside a sync (:class:`~tests.support.chaos.DeviceCrash`, raised by the
transport after the outbox committed, before or after the server saw the push).
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from uuid_utils.compat import uuid7

from client_sdk.device import Device
from client_sdk.errors import FieldlineError, NotFoundError, ValidationError
from client_sdk.sync import Backoff, SyncReport
from client_sdk.view import OrderView
from sync_protocol.entities import TimeEntryKind
from sync_protocol.mutations import AddTimeEntry
from tests.support.chaos import DeviceCrash, FaultInjector

# What a technician does next from each status (action, weight).
NEXT_STEPS: dict[str, list[tuple[str, float]]] = {
    "assigned": [("accept", 0.95), ("decline", 0.05)],
    "accepted": [("start_travel", 1.0)],
    "en_route": [("arrive", 1.0)],
    "on_site": [("start_work", 1.0)],
    "in_progress": [("pause", 0.5), ("complete", 0.5)],
    "paused": [("resume", 1.0)],
}
BACKOFF = Backoff(base_s=0.05, cap_s=1.0)
SYNC_DEADLINE_S = 120.0


class SyncStuck(AssertionError):
    """A device could not finish a sync within the deadline: a stuck outbox or a dead server."""


@dataclass
class PhoneStats:
    mutations: int = 0
    refused_locally: int = 0  # the SDK refused the step at once (e.g. a held order)
    syncs: int = 0
    crashes: int = 0
    network_errors: int = 0
    repairs: int = 0  # scopes the SDK had to repair after a checksum mismatch
    receipts: Counter[str] = field(default_factory=Counter)


class Phone:
    """One device of one technician; use it from one thread only."""

    def __init__(
        self, name: str, home: Path, injector: FaultInjector, server: str, tenant: str
    ) -> None:
        self.name = name
        self.home = home
        self.injector = injector
        self.server = server
        self.tenant = tenant
        self.stats = PhoneStats()
        self.device: Device | None = None

    @property
    def rng(self) -> random.Random:
        return self.injector.rng

    def open(self) -> Device:
        if self.device is None:
            self.device = Device(self.home, transport=self.injector.transport())
        return self.device

    def close(self) -> None:
        if self.device is not None:
            self.device.close()
            self.device = None

    def crash(self) -> None:
        """Drop the device without syncing; the next use reopens it from its folder."""
        self.stats.crashes += 1
        self.close()

    def log_in(self, email: str, password: str) -> None:
        self.open().login(self.server, self.tenant, email, password)

    # --- syncing ----------------------------------------------------------------------

    def sync(self) -> SyncReport:
        """Sync until one round succeeds, through faults, crashes and restarts."""
        deadline = time.monotonic() + SYNC_DEADLINE_S
        attempt = 0
        while True:
            try:
                report = self.open().sync()
            except DeviceCrash:
                self.crash()
                continue
            except FieldlineError as error:
                if not error.retryable:
                    raise
                self.stats.network_errors += 1
                if time.monotonic() > deadline:
                    raise SyncStuck(
                        f"{self.name}: failing after {attempt} tries: {error}"
                    ) from error
                time.sleep(BACKOFF.delay(attempt, self.rng.random))
                attempt += 1
                continue
            self.stats.syncs += 1
            self.stats.repairs += len(report.repaired)
            self.stats.receipts.update(report.receipts)
            return report

    def drain(self) -> SyncReport:
        """Sync until the outbox is empty (a round may end with new receipts pending)."""
        while True:
            report = self.sync()
            if self.open().outbox.report().pending == 0:
                return report

    # --- working offline --------------------------------------------------------------

    def work(self, mutations: int, sync_p: float, crash_p: float) -> None:
        """Record ``mutations`` mutations, syncing or crashing at random points."""
        tries = 0
        while self.stats.mutations < mutations:
            tries += 1
            if tries > mutations * 20:
                raise AssertionError(f"{self.name}: cannot find work ({self.stats})")
            try:
                made = self.act()
            except (ValidationError, NotFoundError):
                self.stats.refused_locally += 1
                made = False
            if not made:
                self.sync()  # nothing to do on the local view: fetch news
                time.sleep(0.2)
                continue
            self.stats.mutations += 1
            roll = self.rng.random()
            if roll < crash_p:
                self.crash()
            elif roll < crash_p + sync_p:
                self.sync()

    def act(self) -> bool:
        """One mutation on an order the technician sees; False if there is none."""
        device = self.open()
        jobs = [view for view in device.jobs() if not view.held]
        if not jobs:
            return False
        view = self.rng.choice(jobs)
        roll = self.rng.random()
        status = view.status.value if view.status else None
        if roll < 0.25 and status in NEXT_STEPS:
            self._step(device, view, status)
        elif roll < 0.5:
            device.add_note(
                view.id, f"{self.name}: 检查完毕 / checked #{self.rng.randrange(10**6)}"
            )
        elif roll < 0.65:
            device.record_part(
                view.id, "阀门密封圈 / valve seal", str(self.rng.randint(1, 4)), "pcs"
            )
        elif roll < 0.8:
            value = f"{self.rng.uniform(-5, 50):.2f}"
            device.record_reading(view.id, "pressure", value, "bar")
        elif roll < 0.91:
            self._time_entry(device, view)
        elif roll < 0.93:
            # A void of evidence the server has never seen: it must be refused and parked
            # (sync.not_in_scope, § 8.3), so quarantine is exercised under chaos too.
            device.void(view.id, "note", str(uuid7()), "记错了 / recorded by mistake")
        else:
            self._proposal(device, view)
        return True

    def _step(self, device: Device, view: OrderView, status: str) -> None:
        actions, weights = zip(*NEXT_STEPS[status], strict=True)
        action = self.rng.choices(actions, weights)[0]
        reason = "等待备件 / waiting for parts" if action in ("pause", "decline") else None
        resolution = f"{self.name} 完成 / done" if action == "complete" else None
        device.transition(view.id, action, reason=reason, resolution=resolution)

    def _time_entry(self, device: Device, view: OrderView) -> None:
        # The SDK has no helper for time entries yet; the outbox takes any mutation.
        ended = datetime.now(UTC).replace(microsecond=0)
        started = ended - timedelta(minutes=self.rng.randint(5, 90))
        device.outbox.record(
            AddTimeEntry(uuid7(), uuid.UUID(view.id), TimeEntryKind.WORK, started, ended)
        )

    def _proposal(self, device: Device, view: OrderView) -> None:
        """A technician's write to office fields: a proposal (§ 8.2), maybe with actuals."""
        when = datetime(2025, 3, 12, 8, tzinfo=UTC) + timedelta(hours=self.rng.randrange(100))
        fields: dict[str, str] = {"scheduled_start": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
        if self.rng.random() < 0.5:
            fields["actual_start"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        device.patch(view.id, fields)
