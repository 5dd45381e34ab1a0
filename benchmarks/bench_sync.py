"""Sync benchmarks (issue 3): ``python -m benchmarks.bench_sync [--only NAME]``.

Same machinery as :mod:`benchmarks.run`: a throwaway PostgreSQL database, a real
``fieldline serve --workers 2`` and the bare Flask baseline on another port. The
seed (:mod:`benchmarks.seed_sync`) gives one technician a scope of ~22,600 rows.
Then, printing one JSON line each:

- ``sync_initial_pull``: a fresh device pulls its scopes from scratch, every page
  (the SDK's 1,000-row pages, gzip); rows/s server side against 20,000, and from the
  client; beside it the rows/s of a raw psycopg read + orjson encoding of the scope's
  rows (:mod:`benchmarks.raw_read`) and the pull's ratio to it;
- ``sync_noop_pull``: the same device pulls again with its cursors at the top
  (200, no changes, a checkpoint), timed with wrk against the hello app; 0.5;
- ``sync_push_1000``: a fresh device pushes 1,000 mutations in one batch,
  mutations/s against 2,000, beside a plain ORM insert of the same evidence rows
  (:mod:`benchmarks.push_batch`, in a process without the change capture).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from uuid_utils.compat import uuid7

from benchmarks.raw_read import raw_read
from benchmarks.run import (
    BenchmarkFailed,
    Load,
    Target,
    bench_database,
    ensure_wrk,
    hello_server,
    measure,
    result_line,
)
from benchmarks.seed_sync import SyncSeeded, seed_sync
from benchmarks.sync_client import FullPull, SyncFailed, SyncHttp, pull_body, wrk_post_script
from benchmarks.sync_measure import access_log_ms, noop_profile, push_rounds
from tests.support.server import FieldlineServer

NAMES = ("sync_initial_pull", "sync_noop_pull", "sync_push_1000")
NOOP_TARGET_RATIO = 0.5
ROWS_PER_SECOND_TARGET = 20_000.0
MUTATIONS_PER_SECOND_TARGET = 2_000.0
PULL_PATH = "/v1/sync/pull"
PRIME_REQUESTS = 8


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=NAMES, help="repeatable")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per target")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--rounds", type=int, default=5, help="alternating wrk rounds")
    parser.add_argument("--repeats", type=int, default=3, help="full pulls and pushes timed")
    args = parser.parse_args(argv)
    ensure_wrk()
    threads = min(args.threads, args.connections)  # wrk needs a connection per thread
    load = Load(args.duration, threads, args.connections, args.rounds)
    try:
        for line in run_all(load, set(args.only or NAMES), args.repeats):
            print(json.dumps(line, ensure_ascii=False), flush=True)
    except (BenchmarkFailed, SyncFailed) as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


def run_all(load: Load, only: set[str], repeats: int) -> Iterator[dict[str, Any]]:
    with bench_database() as database_url, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        server = FieldlineServer(
            database_url,
            Path(tmp) / "fieldline",
            workers=2,
            with_worker=False,
            tenant=None,
            env={
                "FIELDLINE_PASSWORD_PROFILE": "RFC_9106_LOW_MEMORY",  # production's
                "FIELDLINE_ACCESS_TTL_SECONDS": "3600",  # outlives the whole run
            },
        )
        with server, hello_server(Path(tmp)) as hello_url:
            seeded = seed_sync(database_url)
            client = SyncHttp(server.base_url, _log_in(server, seeded))
            try:
                pulling = only & {"sync_initial_pull", "sync_noop_pull"}
                pulls = _full_pulls(server, client, seeded, repeats) if pulling else []
                if "sync_initial_pull" in only:
                    line = _initial_line(server, pulls, seeded)
                    raw = raw_read(database_url, seeded.tenant_id, seeded.scope)
                    line["raw_read_rows_per_s"] = round(raw["rows_per_s"], 1)
                    line["raw_read_rows"] = raw["rows"]
                    line["ratio_to_raw_read"] = round(line["value"] / raw["rows_per_s"], 3)
                    yield line
                if "sync_noop_pull" in only:
                    yield _noop_line(
                        server, client, database_url, seeded, pulls[-1], hello_url, load, tmp
                    )
                if "sync_push_1000" in only:
                    yield _push_line(server, client, database_url, seeded, repeats, tmp)
            finally:
                client.close()


def _log_in(server: FieldlineServer, seeded: SyncSeeded) -> str:
    with server.http() as http:
        response = http.post(
            server.url("/v1/auth/login"),
            json={"tenant": seeded.tenant, "email": seeded.email, "password": seeded.password},
            timeout=30,
        )
    if response.status_code != 200:
        raise BenchmarkFailed(f"login failed: {response.status_code} {response.text[:500]}")
    return str(response.json()["access_token"])


def _full_pulls(
    server: FieldlineServer, client: SyncHttp, seeded: SyncSeeded, repeats: int
) -> list[tuple[FullPull, list[float]]]:
    """``repeats`` pulls from scratch, each by a fresh device, with the server's durations."""
    done: list[tuple[FullPull, list[float]]] = []
    for _ in range(max(1, repeats)):
        mark = len(server.log_text())
        pull = client.full_pull(uuid7(), [seeded.scope, "taxonomy"])
        pull.verify()
        done.append((pull, access_log_ms(server.log_text()[mark:], PULL_PATH)))
    return done


def _initial_line(
    server: FieldlineServer, pulls: list[tuple[FullPull, list[float]]], seeded: SyncSeeded
) -> dict[str, Any]:
    """Median of the full pulls: rows delivered / the server's time (the issue's measure:
    the sum of the pull requests' durations in the access log); the client's wall
    time is reported beside it."""
    pull, server_ms = sorted(pulls, key=lambda p: p[0].seconds)[len(pulls) // 2]
    rows = pull.changes
    server_s = sum(server_ms) / 1000
    value = rows / server_s if server_s else 0.0
    pages_ms = server_ms[:-1] or server_ms
    tables: dict[str, int] = {}
    for table, _row in pull.rows.get(seeded.scope, []):
        tables[table] = tables.get(table, 0) + 1
    return {
        "benchmark": "sync_initial_pull",
        "value": round(value, 1),
        "unit": "rows/s server side (access-log durations of all pages)",
        "client_rows_per_s": round(rows / pull.seconds, 1),
        "baseline": None,
        "ratio": None,
        "target": ROWS_PER_SECOND_TARGET,
        "meets_target": value >= ROWS_PER_SECOND_TARGET,
        "rows": rows,
        "scope_rows": sorted(tables.items()),
        "pages": pull.pages,
        "seconds": round(pull.seconds, 3),
        "server_seconds": round(server_s, 3),
        "server_rows_per_s": round(rows / server_s, 1) if server_s else None,
        "last_page_server_ms": server_ms[-1] if server_ms else None,
        # The first pull's last page computes the scope's checkpoint (a cache miss per worker).
        "first_run_last_page_server_ms": pulls[0][1][-1] if pulls[0][1] else None,
        "other_pages_server_ms_median": statistics.median(pages_ms) if pages_ms else None,
        "wire_bytes_gzip": pull.wire_bytes,
        "body_bytes": pull.body_bytes,
        "runs_s": [round(p.seconds, 3) for p, _ in pulls],
        "checkpoint_verified": True,
    }


def _noop_line(
    server: FieldlineServer,
    client: SyncHttp,
    database_url: str,
    seeded: SyncSeeded,
    last: tuple[FullPull, list[float]],
    hello_url: str,
    load: Load,
    tmp: str,
) -> dict[str, Any]:
    """Cursors at the top: check the answer once, then wrk against the hello app."""
    pull = last[0]
    device_id = uuid7()
    body = pull_body(device_id, dict(pull.cursors))
    # Every worker computes a scope's checkpoint once per scope version (api/sync/checkpoints.py);
    # pay that before the clock starts, as any second pull of a device would.
    with ThreadPoolExecutor(PRIME_REQUESTS) as pool:
        list(pool.map(lambda _: client.post(PULL_PATH, body), range(PRIME_REQUESTS)))
    status, wire, plain = client.post(PULL_PATH, body)
    page = json.loads(plain)
    if status != 200 or page["changes"] or page["has_more"] or not page["checkpoint"]:
        raise BenchmarkFailed(f"no-op pull: {status} {plain[:500]!r}")
    if page["checkpoint"] != pull.checkpoint:
        raise BenchmarkFailed("no-op pull: the checkpoint differs from the full pull's")
    script = wrk_post_script(Path(tmp) / "noop_pull.lua", body)
    headers = [f"Authorization: {client.headers['Authorization']}"]
    target = Target(server.url(PULL_PATH), headers, str(script))
    baseline, result = measure([Target(hello_url, []), target], load)
    line = result_line("sync_noop_pull", result, baseline, None, load)
    line["target_ratio"] = NOOP_TARGET_RATIO
    line["meets_target"] = line["ratio"] >= NOOP_TARGET_RATIO
    line["response_bytes_gzip"] = len(wire)
    line["profile"] = noop_profile(database_url, seeded, device_id, body)
    return line


def _push_line(
    server: FieldlineServer,
    client: SyncHttp,
    database_url: str,
    seeded: SyncSeeded,
    repeats: int,
    tmp: str,
) -> dict[str, Any]:
    rounds = push_rounds(server, client, database_url, seeded, max(1, repeats), Path(tmp))
    push_s = statistics.median(r.push_seconds for r in rounds)
    orm_s = statistics.median(r.orm_seconds for r in rounds)
    value = rounds[0].mutations / push_s
    baseline = rounds[0].orm_rows / orm_s
    return {
        "benchmark": "sync_push_1000",
        "value": round(value, 1),
        "unit": "mutations/s (client wall time of the one request)",
        "baseline": round(baseline, 1),
        "baseline_unit": "evidence rows/s, plain ORM add_all + commit, no change capture",
        "ratio": round(value / baseline, 3),
        "target": MUTATIONS_PER_SECOND_TARGET,
        "meets_target": value >= MUTATIONS_PER_SECOND_TARGET,
        "mutations": rounds[0].mutations,
        "mix": rounds[0].mix,
        "receipts": rounds[0].receipts,
        "push_s": [round(r.push_seconds, 3) for r in rounds],
        "push_server_ms": [r.server_ms for r in rounds],
        "orm_s": [round(r.orm_seconds, 4) for r in rounds],
        "request_bytes": rounds[0].request_bytes,
        "scope_changes_logged": [r.scope_changes for r in rounds],
    }


if __name__ == "__main__":
    sys.exit(main())
