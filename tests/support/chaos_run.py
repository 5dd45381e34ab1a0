"""The chaos scenario: many SDK devices, a dispatcher and a server restart, then the proof.

:func:`run_chaos` takes a running :class:`~tests.support.server.FieldlineServer`
(PostgreSQL, several gunicorn workers) and:

1. builds the world through the REST API (:mod:`tests.support.chaos_world`);
   D devices log in as T technicians, two devices per technician by default (a
   phone and a tablet), and prime their replicas;
2. turns faults on and runs every device in its own thread
   (:meth:`~tests.support.chaos_device.Phone.work`) while the dispatcher acts
   online, and beside them a script that plays every kind of conflict
   ``per_kind`` times on orders of its own with a third technician's phone and
   tablet (:mod:`tests.support.chaos_script`); when the devices have made a
   share of their mutations the gunicorn process is stopped and started again on
   the same port (devices retry with backoff meanwhile);
3. quiescence: faults off, the dispatcher stops, every device (reopened from its
   folder) syncs until its outbox is empty, then every device syncs once more so
   it pulls what the others pushed last; that round must need no repair. Between
   the two, :data:`SETTLE_SECONDS` for the last pushes' notices to reach every
   worker: a worker answers a quiet poll from memory until the notice of a commit
   elsewhere arrives (``api.sync.quiet_rows``; within milliseconds, at most its
   5 s lifetime), so a poll made in the same instant may still hear "nothing new";
4. checks everything against the database (:mod:`tests.support.chaos_verify`),
   including every order's final state against an oracle of the merge rules fed
   with the office's requests (:class:`~tests.support.chaos_world.OfficeLog`) and
   the devices' mutations, and returns the counts (conflicts met by kind
   included), with :meth:`ChaosResult.summary` as one line.

Everything random comes from ``config.seed``: the same seed replays the same
choices (thread timing still varies).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tests.support.chaos import FaultInjector, FaultLedger, FaultRates, FaultSwitch
from tests.support.chaos_device import Phone, PhoneStats
from tests.support.chaos_script import PARTS, Plan, Script
from tests.support.chaos_verify import DeviceSnapshot, Office, Verified, verify
from tests.support.chaos_world import PASSWORD, Api, Dispatcher, World, build_world
from tests.support.server import FieldlineServer, json_body

T = TypeVar("T")
# Longer than a notice takes to reach every worker, far shorter than a quiet row lives.
SETTLE_SECONDS = 0.5


@dataclass(frozen=True)
class ChaosConfig:
    seed: int
    devices: int = 8
    mutations: int = 30  # per device
    devices_per_technician: int = 2  # a phone and a tablet
    orders_per_technician: int = 4
    restarts: int = 1
    per_kind: int = 5  # scripted instances of each conflict kind (chaos_script)
    sync_p: float = 0.15  # chance of a sync after a local write
    crash_p: float = 0.04  # chance the app dies right after a local write
    rates: FaultRates = field(default_factory=FaultRates)

    @property
    def technicians(self) -> int:
        return max(2, -(-self.devices // self.devices_per_technician))


@dataclass
class ChaosResult:
    config: ChaosConfig
    verified: Verified
    stats: PhoneStats
    faults: dict[str, int]
    dispatcher: dict[str, int]
    restarts: int
    wall_s: float
    run_s: float  # devices working under faults (the part the benchmark rates)
    downtime_s: float  # the server was not answering (restarts)

    def counts(self) -> dict[str, Any]:
        receipts = self.verified.receipts
        return {
            "seed": self.config.seed,
            "devices": self.config.devices,
            "technicians": self.config.technicians,
            "mutations": self.stats.mutations,
            "acknowledged": self.verified.acknowledged,
            "applied": receipts["applied"],
            "duplicate": receipts["duplicate"],
            "merged": receipts["merged"],
            "conflicts": receipts["conflict"],
            "rejected": receipts["rejected"],
            "conflict_records": self.verified.conflicts,
            "kinds": dict(self.verified.kinds),
            "orders_checked": self.verified.orders,
            "quarantined": self.verified.quarantined,
            "evidence_rows": self.verified.evidence,
            "history_rows": self.verified.history,
            "scopes_checked": self.verified.scopes,
            "rows_compared": self.verified.rows,
            "faults": self.faults,
            "network_errors": self.stats.network_errors,
            "restarts": self.restarts,
            "downtime_s": self.downtime_s,
            "crashes": self.stats.crashes,
            "repairs_during_run": self.stats.repairs,
            "refused_locally": self.stats.refused_locally,
            "syncs": self.stats.syncs,
            "dispatcher": self.dispatcher,
            "wall_s": round(self.wall_s, 2),
        }

    def summary(self) -> str:
        parts = []
        for key, value in self.counts().items():
            shown = value
            if isinstance(value, dict):
                shown = ",".join(f"{k}={v}" for k, v in sorted(value.items())) or "-"
            parts.append(f"{key}={shown}")
        return "chaos: " + " ".join(parts)


def run_chaos(server: FieldlineServer, workdir: Path, config: ChaosConfig) -> ChaosResult:
    started = time.monotonic()
    rng = random.Random(config.seed)
    world = build_world(
        server, config.technicians, config.orders_per_technician, PARTS * config.per_kind
    )
    switch, ledger = FaultSwitch(), FaultLedger()
    names = [f"device-{n}" for n in range(config.devices)] + ["script-phone", "script-tablet"]
    phones = [
        Phone(
            name,
            workdir / name,
            FaultInjector(random.Random(rng.random()), config.rates, switch, ledger),
            server.base_url,
            world.tenant_slug,
        )
        for name in names
    ]
    randoms = phones[: config.devices]
    owners = [world.technicians[n // config.devices_per_technician] for n in range(len(randoms))]
    owners += [world.script_technicians[0]] * 2
    script_api = Api(server, world.dispatcher_token)
    script = Script(
        script_api,
        world,
        phones[-2],
        phones[-1],
        Plan.split(world.scripted, config.per_kind, *world.script_technicians),
    )
    (workdir / "script").mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=len(phones) + 2, thread_name_prefix="chaos") as pool:
        _each(pool, phones, lambda p, i: _prime(p, owners[i].email))
        switch.on()
        stop = threading.Event()
        dispatcher = Dispatcher(server, world, random.Random(rng.random()), len(world.orders) // 6)
        office = pool.submit(dispatcher.run, stop)
        run_started = time.monotonic()
        work = [pool.submit(_work, phone, config) for phone in randoms]
        scripted = pool.submit(script.run, workdir / "script")
        downtime: list[float] = []
        restarts = _restart_midway(server, config, randoms, work, downtime)
        _wait([*work, scripted])
        script_api.close()
        run_s = time.monotonic() - run_started
        stop.set()
        office.result()
        switch.off()
        _each(pool, phones, lambda p, i: _drain(p))
        time.sleep(SETTLE_SECONDS)
        finals = _each(pool, phones, lambda p, i: _final(p, owners[i].user_id))
    wall_s = time.monotonic() - started
    snapshots = [snap for snap, _ in finals]
    for phone, (_, repaired) in zip(phones, finals, strict=True):
        assert not repaired, f"{phone.name}: the final round had to repair {repaired}"
    office_log = Office(world.dispatcher_id, list(world.office.acts))
    inbox = _inbox(server, world)
    verified = verify(server.database_url, world.tenant_id, snapshots, inbox, office_log)
    return ChaosResult(
        config,
        verified,
        _total(phones),
        ledger.snapshot(),
        dict(dispatcher.actions),
        restarts,
        wall_s,
        run_s,
        round(sum(downtime), 2),
    )


def _prime(phone: Phone, email: str) -> None:
    phone.log_in(email, PASSWORD)
    phone.sync()
    phone.close()


def _work(phone: Phone, config: ChaosConfig) -> None:
    try:
        phone.work(config.mutations, config.sync_p, config.crash_p)
    finally:
        phone.close()  # the connection belongs to this thread


def _drain(phone: Phone) -> None:
    try:
        phone.drain()
    finally:
        phone.close()


def _final(phone: Phone, user_id: str) -> tuple[DeviceSnapshot, list[str]]:
    try:
        report = phone.sync()
        return DeviceSnapshot.read(phone.name, phone.open(), user_id), report.repaired
    finally:
        phone.close()


def _restart_midway(
    server: FieldlineServer,
    config: ChaosConfig,
    phones: list[Phone],
    work: list[Future[None]],
    downtime: list[float],
) -> int:
    """Stop gunicorn and start it on the same port when the devices are far enough along."""
    total = config.devices * config.mutations
    done = 0
    for n in range(config.restarts):
        mark = total * (n + 1) / (config.restarts + 1)
        # Each phone's count is written by its own thread only; the sum is a fair gauge.
        while sum(p.stats.mutations for p in phones) < mark and not all(f.done() for f in work):
            time.sleep(0.05)
        if all(f.done() for f in work):
            break
        port, down = server.port, time.monotonic()
        server.processes["serve"].stop()
        time.sleep(0.5)  # devices meet a closed port for a moment
        server.start_server(port=port)
        downtime.append(time.monotonic() - down)
        done += 1
    return done


def _each(
    pool: ThreadPoolExecutor, phones: list[Phone], task: Callable[[Phone, int], T]
) -> list[T]:
    futures = [pool.submit(task, phone, n) for n, phone in enumerate(phones)]
    return _wait(futures)


def _wait(futures: list[Future[T]]) -> list[T]:
    """Every result, in order; the first failure is raised once all have finished."""
    errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error
    return [f.result() for f in futures]


def _total(phones: list[Phone]) -> PhoneStats:
    total = PhoneStats()
    for phone in phones:
        s = phone.stats
        total.mutations += s.mutations
        total.refused_locally += s.refused_locally
        total.syncs += s.syncs
        total.crashes += s.crashes
        total.network_errors += s.network_errors
        total.repairs += s.repairs
        total.receipts.update(s.receipts)
    return total


def _inbox(server: FieldlineServer, world: World) -> set[str]:
    """Every conflict record id the dispatcher's inbox lists (items and their proposals)."""
    api = Api(server, world.dispatcher_token)
    ids: set[str] = set()
    params: dict[str, Any] = {"state": "open", "limit": 200}
    try:
        while True:
            page = json_body(api.call("GET", "/v1/sync/conflicts", params=params), 200)
            for item in page["items"]:
                ids.add(str(item["id"]))
                ids.update(str(p["id"]) for p in item["proposals"])
            if not page.get("next_cursor"):
                return ids
            params["cursor"] = page["next_cursor"]
    finally:
        api.close()
