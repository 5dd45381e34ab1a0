"""Measurements behind the sync benchmark lines that wrk cannot take.

- :func:`access_log_ms`: the server's own duration of each request to a path,
  from the JSON access log (``duration_ms``), to tell server time from the
  client's wall time;
- :func:`noop_profile`: what one no-op pull costs inside the server, in this
  process against the benchmark database: SQL statements per pull, and how much
  a checkpoint cache miss costs (the running tally), beside a full recount;
- :func:`push_rounds`: the push of 1,000 mutations over HTTP, each round after
  the baseline insert of the same evidence (:mod:`benchmarks.push_batch`).
"""

from __future__ import annotations

import functools
import json
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text
from uuid_utils.compat import uuid7

from api.auth.actor import Actor
from api.auth.permissions import Role
from api.db import UnitOfWorkFactory, make_engine, utcnow
from api.sync import checkpoints, services
from benchmarks.push_batch import MIX, TRANSITIONS, evidence_specs
from benchmarks.seed_sync import SyncSeeded
from benchmarks.sync_client import SyncFailed, SyncHttp, push_batch, push_body
from sync_protocol.checksum import scope_checksum
from tests.support.server import FieldlineServer

PUSH_PATH = "/v1/sync/push"
_PROFILE_RUNS = 5


def access_log_ms(log: str, path: str) -> list[float]:
    """``duration_ms`` of every access-log line for ``path`` in ``log``, in order."""
    found: list[float] = []
    for line in log.splitlines():
        if not line.startswith("{") or f'"{path}"' not in line:
            continue
        record = json.loads(line)
        if record.get("path") == path and "duration_ms" in record:
            found.append(float(record["duration_ms"]))
    return found


class _StatementCounter:
    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


def noop_profile(
    database_url: str, seeded: SyncSeeded, device_id: uuid.UUID, body: bytes
) -> dict[str, Any]:
    """Statements and milliseconds of the no-op pull's service, and of its checkpoint part."""
    engine = make_engine(database_url)
    counter = _StatementCounter(engine)
    uow = UnitOfWorkFactory(engine)
    actor = Actor(
        tenant_id=seeded.tenant_id,
        role=Role.TECHNICIAN,
        user_id=seeded.user_id,
        technician_id=seeded.technician_id,
    )
    try:
        services.pull(uow, actor, body)  # warm: statement caches, connection
        pull_ms, statements = [], []
        for _ in range(_PROFILE_RUNS):
            counter.count = 0
            started = time.perf_counter()
            page = services.pull(uow, actor, body)
            pull_ms.append((time.perf_counter() - started) * 1000)
            statements.append(counter.count)
        if not hasattr(page, "changes") or page.changes:
            raise SyncFailed(f"in-process no-op pull returned {page!r:.300}")
        checkpoint_ms, rows, checkpoint_statements, full_ms = _checkpoint_cost(uow, counter, seeded)
        members_ms = _members_cost(uow, seeded)
    finally:
        engine.dispose()
    return {
        "service_ms_median": round(statistics.median(pull_ms), 1),
        "sql_statements_per_pull": statistics.median(statements),
        "cold_checkpoint_ms_median": round(checkpoint_ms, 1),
        "cold_checkpoint_sql_statements": checkpoint_statements,
        "scope_rows": rows,
        "full_recount_ms_median": round(full_ms, 1),
        "scope_members_read_ms": round(members_ms, 1),
        "note": "in-process service only (no HTTP, no auth); cold checkpoint = a checkpoint "
        "cache miss (the scope's version and running tally); full recount = reading and "
        "checksumming every row of the scope, what a miss cost before tallies",
    }


def _checkpoint_cost(
    uow: UnitOfWorkFactory, counter: _StatementCounter, seeded: SyncSeeded
) -> tuple[float, int, int, float]:
    """A checkpoint cache miss for the technician scope: the scope's version and tally
    (what a pull does), and beside it every row read and checksummed (a full recount)."""
    timings, rows, statements, full = [], 0, 0, []
    for _ in range(_PROFILE_RUNS):
        with uow.reader() as unit:
            counter.count = 0
            started = time.perf_counter()
            checkpoints.CheckpointCache().summary(
                unit.session,
                seeded.tenant_id,
                seeded.scope,
                functools.partial(services.summarise, unit.session, seeded.tenant_id, seeded.scope),
            )
            timings.append((time.perf_counter() - started) * 1000)
            statements = counter.count
            started = time.perf_counter()
            images = services.scope_rows(unit.session, seeded.tenant_id, seeded.scope)
            scope_checksum(images)
            full.append((time.perf_counter() - started) * 1000)
            rows = len(images)
    return statistics.median(timings), rows, statements, statistics.median(full)


def _members_cost(uow: UnitOfWorkFactory, seeded: SyncSeeded) -> float:
    """Reading the scope's stored membership, as every page with upserts does."""
    timings = []
    for _ in range(_PROFILE_RUNS):
        with uow.reader() as unit:
            started = time.perf_counter()
            services.scope_members(unit.session, seeded.tenant_id, seeded.scope)
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


@dataclass(frozen=True)
class PushRound:
    mutations: int
    orm_rows: int
    push_seconds: float
    orm_seconds: float
    server_ms: float | None
    receipts: dict[str, int]
    mix: dict[str, int]
    request_bytes: int
    scope_changes: int


def push_rounds(
    server: FieldlineServer,
    client: SyncHttp,
    database_url: str,
    seeded: SyncSeeded,
    repeats: int,
    tmp: Path,
) -> list[PushRound]:
    """Alternately: the ORM baseline, then a fresh device's push of one 1,000-mutation batch."""
    engine = make_engine(database_url)
    try:
        return [
            _push_round(server, client, engine, database_url, seeded, n, tmp)
            for n in range(repeats)
        ]
    finally:
        engine.dispose()


def _push_round(
    server: FieldlineServer,
    client: SyncHttp,
    engine: Engine,
    database_url: str,
    seeded: SyncSeeded,
    n: int,
    tmp: Path,
) -> PushRound:
    orm_rows, orm_seconds = _orm_baseline(database_url, seeded, tmp / f"orm-{n}.json")
    device_id = uuid7()
    accept = list(seeded.order_ids[n * TRANSITIONS : (n + 1) * TRANSITIONS])
    mutations = push_batch(device_id, evidence_specs(list(seeded.order_ids), utcnow()), accept)
    body = push_body(device_id, mutations)
    before, mark = _high_water(engine, seeded), len(server.log_text())
    started = time.perf_counter()
    status, _wire, plain = client.post(PUSH_PATH, body)
    seconds = time.perf_counter() - started
    if status != 200:
        raise SyncFailed(f"push answered {status}: {plain[:500]!r}")
    receipts = json.loads(plain)["receipts"]
    outcomes = Counter(r["status"] for r in receipts)
    if len(receipts) != len(mutations) or outcomes["applied"] != len(mutations):
        raise SyncFailed(f"push: expected {len(mutations)} applied receipts, got {outcomes}")
    server_ms = access_log_ms(server.log_text()[mark:], PUSH_PATH)
    return PushRound(
        mutations=len(mutations),
        orm_rows=orm_rows,
        push_seconds=seconds,
        orm_seconds=orm_seconds,
        server_ms=server_ms[-1] if server_ms else None,
        receipts=dict(outcomes),
        mix={"transition_work_order": len(accept), **MIX},
        request_bytes=len(body),
        scope_changes=_high_water(engine, seeded) - before,
    )


def _orm_baseline(database_url: str, seeded: SyncSeeded, path: Path) -> tuple[int, float]:
    """The same evidence rows on past orders (in no scope), inserted by a plain ORM session."""
    specs = evidence_specs(list(seeded.past_order_ids), utcnow())
    payload = {"specs": specs, "tenant_id": str(seeded.tenant_id), "author_id": str(seeded.user_id)}
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.push_batch", database_url, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if completed.returncode != 0:
        raise SyncFailed(f"ORM baseline failed: {completed.stderr[-2000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return int(result["rows"]), float(result["seconds"])


def _high_water(engine: Engine, seeded: SyncSeeded) -> int:
    with engine.connect() as connection:
        value = connection.execute(
            text("SELECT value FROM sync_counter WHERE tenant_id = :tenant"),
            {"tenant": seeded.tenant_id},
        ).scalar()
    return int(value or 0)
