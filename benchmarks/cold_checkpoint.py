"""Cold checkpoint after a small push: ``python -m benchmarks.cold_checkpoint [--rounds 3]``.

The sync seed (:mod:`benchmarks.seed_sync`: one technician scope of ~22,840 rows)
in a throwaway PostgreSQL database. Each round, in this process (no HTTP):

1. the technician's device pushes 10 notes (``add_note``) through the real push
   service, which logs them and moves the scope's tally;
2. **old**: the checkpoint as it was computed before running tallies: every row of
   the scope materialised and hashed (:func:`api.sync.services.full_summary`);
3. **new**: the checkpoint as a pull now computes it on a worker that has never
   seen this scope version (an empty :class:`~api.sync.checkpoints.CheckpointCache`):
   the scope's version and its tally (:func:`api.sync.services.summarise`).

Both must give the same checksum and count. One JSON line: the median of the
rounds for each, their ratio, and the target (new < 20 ms).
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from typing import Any

from uuid_utils.compat import uuid7

from api.auth.actor import Actor
from api.auth.permissions import Role
from api.db import UnitOfWorkFactory, make_engine
from api.migrations import upgrade
from api.sync import checkpoints, services
from api.sync.push import service as push_service
from benchmarks.run import BenchmarkFailed, bench_database
from benchmarks.seed_sync import SyncSeeded, seed_sync
from benchmarks.sync_client import push_batch, push_body
from sync_protocol.messages import PushResponse

TARGET_MS = 20.0
PUSHED = 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        print(json.dumps(run(max(1, args.rounds)), ensure_ascii=False), flush=True)
    except BenchmarkFailed as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


def run(rounds: int) -> dict[str, Any]:
    with bench_database() as database_url:
        engine = make_engine(database_url)
        try:
            upgrade(engine)
            seeded = seed_sync(database_url)
            uow = UnitOfWorkFactory(engine)
            old_ms: list[float] = []
            new_ms: list[float] = []
            rows = 0
            for n in range(rounds):
                _push_notes(uow, seeded, n)
                old, new, rows = _one_round(uow, seeded)
                old_ms.append(old)
                new_ms.append(new)
        finally:
            engine.dispose()
    old_median, new_median = statistics.median(old_ms), statistics.median(new_ms)
    return {
        "benchmark": "sync_cold_checkpoint",
        "value": round(new_median, 2),
        "unit": f"ms, checkpoint of a scope version never seen, after a {PUSHED}-row push",
        "baseline": round(old_median, 1),
        "baseline_unit": "ms, the whole scope materialised and hashed (before tallies)",
        "ratio": round(old_median / new_median, 1) if new_median else None,
        "target": TARGET_MS,
        "meets_target": new_median < TARGET_MS,
        "scope_rows": rows,
        "rounds": rounds,
        "old_ms": [round(v, 1) for v in old_ms],
        "new_ms": [round(v, 2) for v in new_ms],
    }


def _push_notes(uow: UnitOfWorkFactory, seeded: SyncSeeded, n: int) -> None:
    actor = Actor(
        tenant_id=seeded.tenant_id,
        role=Role.TECHNICIAN,
        user_id=seeded.user_id,
        technician_id=seeded.technician_id,
    )
    device_id = uuid7()
    specs = [
        {
            "kind": "note",
            "id": str(uuid7()),
            "work_order_id": str(seeded.order_ids[(n * PUSHED + i) % len(seeded.order_ids)]),
            "body": f"round {n}, note {i}",
        }
        for i in range(PUSHED)
    ]
    body = push_body(device_id, push_batch(device_id, specs, []))
    answer = push_service.push(uow, actor, body)
    if not isinstance(answer, PushResponse) or any(
        r.status.value != "applied" for r in answer.receipts
    ):
        raise BenchmarkFailed(f"push of {PUSHED} notes: {answer!r:.500}")


def _one_round(uow: UnitOfWorkFactory, seeded: SyncSeeded) -> tuple[float, float, int]:
    tenant_id, scope = seeded.tenant_id, seeded.scope
    with services.read_snapshot(uow) as session:
        started = time.perf_counter()
        old = services.full_summary(session, tenant_id, scope)
        old_ms = (time.perf_counter() - started) * 1000
    with services.read_snapshot(uow) as session:
        cold = checkpoints.CheckpointCache()  # a worker that has not seen this version
        started = time.perf_counter()
        new = cold.summary(
            session,
            tenant_id,
            scope,
            functools.partial(services.summarise, session, tenant_id, scope),
        )
        new_ms = (time.perf_counter() - started) * 1000
    if new != old:
        raise BenchmarkFailed(f"the tally {new} differs from the full recount {old}")
    return old_ms, new_ms, old.count


if __name__ == "__main__":
    sys.exit(main())
