"""The sync chaos run as a benchmark.

``python -m benchmarks.bench_chaos --devices 50 --mutations 100``

It makes a throwaway PostgreSQL database (:func:`benchmarks.run.bench_database`),
starts ``fieldline serve --workers 2`` with :class:`tests.support.server.FieldlineServer`
and runs the chaos scenario of :mod:`tests.support.chaos_run` at the given size:
SDK devices in threads behind a faulty network, app crashes, a dispatcher acting
online and a server restart, then quiescence and the full verification. It prints
ONE JSON line: wall time, mutations per second while the devices worked, and the
counts. A broken promise (a lost or doubled write, a replica that differs) fails
the run with exit status 1 instead of printing numbers.

There is no baseline here: the numbers describe one machine (2 cores shared by
the devices, gunicorn and PostgreSQL), and the run's point is its counts.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

from benchmarks.run import bench_database
from tests.support.chaos_run import ChaosConfig, run_chaos
from tests.support.server import FieldlineServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--mutations", type=int, default=100, help="per device")
    parser.add_argument("--restarts", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**9)
    config = ChaosConfig(
        seed=seed, devices=args.devices, mutations=args.mutations, restarts=args.restarts
    )
    print(f"chaos benchmark seed={seed}", file=sys.stderr, flush=True)
    with bench_database() as url, tempfile.TemporaryDirectory(prefix="bench-chaos-") as tmp:
        server = FieldlineServer(
            url,
            Path(tmp) / "fieldline",
            workers=args.workers,
            with_worker=False,
            env={"FIELDLINE_ACCESS_TTL_SECONDS": "3600"},  # outlives the whole run
        )
        with server:
            try:
                result = run_chaos(server, Path(tmp) / "devices", config)
            except AssertionError as exc:
                print(f"BENCHMARK FAILED (seed {seed}): {exc}", file=sys.stderr, flush=True)
                return 1
    counts = result.counts()
    line = {
        "benchmark": "sync_chaos",
        "devices": args.devices,
        "mutations_per_device": args.mutations,
        "gunicorn_workers": args.workers,
        "wall_s": round(result.wall_s, 2),
        "run_s": round(result.run_s, 2),
        "mutations_per_s": round(counts["mutations"] / result.run_s, 1),
        **counts,
    }
    print(json.dumps(line, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
