"""Live fan-out: 1,000 open console streams, how fast an event reaches all of them, and
what holding them costs the API beside them.

On a throwaway PostgreSQL database seeded like the read benchmarks
(:func:`benchmarks.bench_work_orders.seed`), it starts ``fieldline serve --workers 2``
(gunicorn, as in production), ``fieldline streams`` (the stream server, one
process), and the bare Flask baseline. Then, in two phases of equal length:

1. **without streams**: ``work_order_read`` and ``hello`` timed with wrk in
   alternating rounds (:func:`benchmarks.run.measure`) while a dispatcher adds a
   note to an order every :data:`EVENT_EVERY` seconds through the API;
2. **with streams**: a client process (:mod:`benchmarks.live_clients`) opens
   :data:`STREAMS` console streams of the dispatcher's tenant and keeps them open;
   the same measurement and the same notes run again. Each note commits, its
   ``NOTIFY`` reaches the stream server, which sends an ``evidence`` event to all
   1,000 streams; the client notes when each stream got it.

Latency of one delivery: from just before the note's ``POST`` to the moment a
stream has the event (both on this machine's clock). ``fanout_p95_ms`` is the
95th percentile over events of the time until the *last* of the 1,000 streams had
it (target < 1,000 ms); ``delivery_p95_ms`` over every single delivery. Both
include the note's own request, which waits in the API's queue behind wrk's 32
connections; ``fanout_after_commit_p95_ms`` starts at the API's answer instead
(just after the commit), which is the fan-out itself.
``read_ratio_drop`` is how much ``work_order_read``'s ratio to ``hello`` fell
with the streams open (target ≤ 0.10).

Prints one JSON line. Run: ``python -m benchmarks.bench_live_fanout [--streams N]``.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from benchmarks.bench_work_orders import benchmarks, seed
from benchmarks.run import (
    BenchmarkFailed,
    Load,
    Target,
    bench_database,
    ensure_wrk,
    hello_server,
    log_in,
    measure,
    verify,
)
from tests.support.server import FieldlineServer

STREAMS = 1000
EVENT_EVERY = 0.5  # seconds between notes during each phase
TARGET_FANOUT_MS = 1000.0
TARGET_READ_DROP = 0.10


class Notes:
    """A dispatcher adding notes to one order, every ``every`` seconds, in a thread."""

    def __init__(self, base: str, token: str, order_id: str, every: float) -> None:
        self.url = f"{base}/v1/work-orders/{order_id}/notes"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.every = every
        self.sent: dict[str, float] = {}  # note id -> just before its POST
        self.answered: dict[str, float] = {}  # note id -> its 201 (after the commit)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Notes:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        with requests.Session() as http:
            http.trust_env = False
            while not self._stop.wait(self.every):
                note_id = str(uuid.uuid4())
                started = time.time()
                response = http.post(
                    self.url,
                    json={"id": note_id, "body": "实时推送测试"},
                    headers=self.headers,
                    timeout=30,
                )
                if response.status_code != 201:
                    raise BenchmarkFailed(f"note: {response.status_code} {response.text[:300]}")
                self.sent[note_id] = started
                self.answered[note_id] = time.time()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=STREAMS)
    parser.add_argument("--duration", type=int, default=10, help="wrk seconds per phase")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    ensure_wrk()
    load = Load(args.duration, threads=2, connections=32, rounds=args.rounds)
    try:
        print(json.dumps(run(load, args.streams), ensure_ascii=False), flush=True)
    except BenchmarkFailed as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


def run(load: Load, streams: int) -> dict[str, Any]:
    with bench_database() as database_url, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        server = FieldlineServer(
            database_url,
            Path(tmp) / "fieldline",
            workers=2,
            with_worker=False,
            tenant=None,
            env={
                "FIELDLINE_PASSWORD_PROFILE": "RFC_9106_LOW_MEMORY",
                "FIELDLINE_ACCESS_TTL_SECONDS": "3600",
                # One dispatcher's sign-in holds every stream here; a real console has one.
                "FIELDLINE_LIVE_STREAMS_PER_SESSION": str(streams),
            },
        )
        with server, hello_server(Path(tmp), database_url) as hello_url:
            seeded = seed(database_url)
            token = log_in(server, seeded)
            stream_port = server.start_streams()
            (bench,) = [b for b in benchmarks(seeded) if b.name == "work_order_read"]
            read = Target(server.url(bench.path), [f"Authorization: Bearer {token}"])
            verify(read, bench)
            hello = Target(hello_url, [])
            noted = _another_order(server, token, seeded.read_id)  # the read stays the same
            with Notes(server.base_url, token, noted, EVENT_EVERY):
                base_hello, base_read = measure([hello, read], load)
            clients = _open_streams(server, token, stream_port, streams)
            try:
                with Notes(server.base_url, token, noted, EVENT_EVERY) as notes:
                    live_hello, live_read = measure([hello, read], load)
                time.sleep(1.0)  # the last note's deliveries
                report = _report(clients)
            finally:
                clients.kill()
            health = requests.get(f"http://127.0.0.1:{stream_port}/live/health", timeout=10)
            return _result(
                streams, notes, report, (base_hello, base_read), (live_hello, live_read),
                health.json(), load,
            )  # fmt: skip


def _another_order(server: FieldlineServer, token: str, read_id: str) -> str:
    with server.http() as http:
        listed = http.get(
            server.url("/v1/work-orders?status=assigned&limit=5"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
    ids = [item["id"] for item in listed.json()["items"] if item["id"] != read_id]
    if not ids:
        raise BenchmarkFailed(f"no order to add notes to: {listed.text[:300]}")
    return str(ids[0])


def _open_streams(
    server: FieldlineServer, token: str, port: int, count: int
) -> subprocess.Popen[str]:
    with server.http() as http:
        ticket = http.post(
            server.url("/v1/live/tickets"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
    if ticket.status_code != 201:
        raise BenchmarkFailed(f"ticket: {ticket.status_code} {ticket.text[:300]}")
    path = "/live/console?ticket=" + ticket.json()["ticket"]
    clients = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.live_clients", str(port), path, str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert clients.stdout is not None
    line = clients.stdout.readline()
    if line.strip() != "ready":
        clients.kill()
        raise BenchmarkFailed(f"the streams did not open: {line!r}")
    return clients


def _report(clients: subprocess.Popen[str]) -> dict[str, Any]:
    assert clients.stdin is not None and clients.stdout is not None
    clients.stdin.write("report\n")
    clients.stdin.flush()
    report: dict[str, Any] = json.loads(clients.stdout.readline())
    return report


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _result(
    streams: int,
    notes: Notes,
    report: dict[str, Any],
    without: tuple[Any, Any],
    with_streams: tuple[Any, Any],
    health: dict[str, Any],
    load: Load,
) -> dict[str, Any]:
    received: dict[str, list[float]] = report["events"]
    sent = notes.sent
    all_of_them, each, after_answer = [], [], []
    complete = 0
    for note_id, started in sent.items():
        times = received.get(note_id, [])
        each += [(t - started) * 1000 for t in times]
        if len(times) == streams:
            complete += 1
            all_of_them.append((max(times) - started) * 1000)
            # From the API's answer (just after the commit) to the last stream: the
            # fan-out itself, without the note's wait in the API's queue under wrk.
            after_answer.append(max(0.0, (max(times) - notes.answered[note_id]) * 1000))
    if not all_of_them:
        raise BenchmarkFailed(f"no event reached all {streams} streams")
    ratio_without = without[1].rps / without[0].rps
    ratio_with = with_streams[1].rps / with_streams[0].rps
    drop = (ratio_without - ratio_with) / ratio_without
    fanout_p95 = _p95(all_of_them)
    return {
        "benchmark": "live_fanout",
        "streams": streams,
        "events": len(sent),
        "events_reaching_all": complete,
        "fanout_p50_ms": round(statistics.median(all_of_them), 1),
        "fanout_p95_ms": round(fanout_p95, 1),
        "delivery_p95_ms": round(_p95(each), 1),
        "fanout_after_commit_p95_ms": round(_p95(after_answer), 1),
        "target_fanout_ms": TARGET_FANOUT_MS,
        "read_ratio_without_streams": round(ratio_without, 3),
        "read_ratio_with_streams": round(ratio_with, 3),
        "read_ratio_drop": round(drop, 3),
        "target_read_drop": TARGET_READ_DROP,
        "meets_target": fanout_p95 < TARGET_FANOUT_MS
        and complete == len(sent)
        and drop <= TARGET_READ_DROP,
        "read_rps_with_streams": round(with_streams[1].rps, 1),
        "hello_rps_with_streams": round(with_streams[0].rps, 1),
        "streams_closed_early": report["closed"],
        "streams_dropped": health.get("dropped"),
        "wrk": f"-t{load.threads} -c{load.connections}, {load.rounds} x "
        f"{max(1, load.duration // load.rounds)}s alternating with the baseline, per phase",
    }


if __name__ == "__main__":
    sys.exit(main())
