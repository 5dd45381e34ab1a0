"""Run the benchmarks: ``python -m benchmarks.run [--only NAME] [--duration 10]``.

It makes a throwaway PostgreSQL database (127.0.0.1:5432, dropped at the end),
seeds it through the services, starts ``fieldline serve --workers 2`` and, on
another port, the bare Flask baseline (:mod:`benchmarks.hello_app`) under
gunicorn with the same worker settings as :mod:`api.server`. Each benchmark
checks its endpoint answers 200 with the right body, warms up, times itself
and the baseline with ``wrk`` in alternating rounds, and prints ONE JSON line. Any non-2xx
response or socket error fails the run (exit status 1).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import requests

from api.config import Config
from benchmarks.bench_work_orders import NAMES, Benchmark, Seeded, benchmarks, seed
from tests.support.postgres import create_database, drop_database
from tests.support.server import FieldlineServer, ManagedProcess, free_port

PG_ADMIN_URL = os.environ.get(
    "FIELDLINE_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
WARMUP_SECONDS = 2
# Benchmarks of the engines in-process (their own databases, no HTTP servers), each a
# module that prints its one JSON line; run after the HTTP ones.
IN_PROCESS = {"nearest_qualified": "benchmarks.bench_nearest"}
# The bare app plus one SELECT 1 (benchmarks/hello_app.py): the floor for any endpoint
# that makes a database round trip.
FLOOR = "select1_floor"
# The gunicorn settings of api/server.py, so the baseline differs from Fieldline
# only in the application it serves.
# The baseline runs under the settings `fieldline serve` uses (FIELDLINE_THREADS
# reaches both: the Fieldline server inherits this environment).
GUNICORN_FLAGS = [
    "--workers", "2", "--worker-class", "gthread", "--threads", str(Config.from_env().threads),
    "--timeout", "60", "--graceful-timeout", "10", "--no-control-socket",
]  # fmt: skip


class BenchmarkFailed(RuntimeError):
    """An endpoint answered wrongly, or wrk saw errors: the numbers would be meaningless."""


@dataclass(frozen=True)
class WrkResult:
    rps: float
    requests: int
    non_2xx: int
    socket_errors: int
    p50_ms: float | None
    p99_ms: float | None


@dataclass(frozen=True)
class Load:
    duration: int  # seconds of timing per target, split into rounds
    threads: int
    connections: int
    rounds: int


@dataclass(frozen=True)
class Target:
    url: str
    headers: list[str]
    script: str | None = None  # a wrk Lua script (e.g. a POST body); None: plain GET


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="run only this benchmark (repeatable)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument(
        "--rounds", type=int, default=5, help="alternating baseline/target rounds per benchmark"
    )
    args = parser.parse_args(argv)
    only = set(args.only or [])
    unknown = only - {"hello", FLOOR, *NAMES, *IN_PROCESS}
    if unknown:
        known = ", ".join(["hello", FLOOR, *NAMES, *IN_PROCESS])
        parser.error(f"unknown benchmark {sorted(unknown)}; known: {known}")
    load = Load(args.duration, args.threads, args.connections, args.rounds)
    try:
        if not only or only - set(IN_PROCESS):
            ensure_wrk()
            for line in run_all(load, only):
                print(json.dumps(line, ensure_ascii=False), flush=True)
        for name, module in IN_PROCESS.items():
            if not only or name in only:
                print(run_in_process(name, module), flush=True)
    except BenchmarkFailed as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


def run_in_process(name: str, module: str) -> str:
    """The one JSON line of an in-process benchmark module (which checks its own answers
    and exits non-zero when they are wrong)."""
    completed = subprocess.run(
        [sys.executable, "-m", module], capture_output=True, text=True, check=False, timeout=900
    )
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        raise BenchmarkFailed(f"{name}: {completed.stderr.strip()[-2000:]}")
    return lines[-1]


def run_all(load: Load, only: set[str]) -> Iterator[dict[str, Any]]:
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
        with server, hello_server(Path(tmp), database_url) as hello_url:
            seeded = seed(database_url)
            token = log_in(server, seeded)
            hello = Target(hello_url, [])
            if not only or "hello" in only:
                result = measure([hello], load)[0]
                yield result_line("hello", result, result, None, load)
            for bench in benchmarks(seeded):
                if only and bench.name not in only:
                    continue
                target = Target(server.url(bench.path), [f"Authorization: Bearer {token}"])
                verify(target, bench)
                baseline, result = measure([hello, target], load)
                yield result_line(bench.name, result, baseline, bench, load)
            if not only or FLOOR in only:
                baseline, result = measure([hello, Target(hello_url + "select-1", [])], load)
                yield result_line(FLOOR, result, baseline, None, load)


def measure(targets: list[Target], load: Load) -> list[WrkResult]:
    """Warm each target up, then time them in alternating short rounds.

    Alternating means a burst of background load (another build on the machine)
    hits the baseline and the target alike, so their ratio stays meaningful.
    Errors fail the benchmark.
    """
    for target in targets:
        run_wrk(target, replace(load, duration=WARMUP_SECONDS))
    rounds: list[list[WrkResult]] = [[] for _ in targets]
    slice_load = replace(load, duration=max(1, load.duration // load.rounds))
    for _ in range(load.rounds):
        for target, results in zip(targets, rounds, strict=True):
            result = run_wrk(target, slice_load)
            if result.non_2xx or result.socket_errors:
                raise BenchmarkFailed(
                    f"{target.url}: {result.non_2xx} non-2xx responses, "
                    f"{result.socket_errors} socket errors"
                )
            results.append(result)
    return [combine(results) for results in rounds]


def combine(results: list[WrkResult]) -> WrkResult:
    """Rounds of equal length: mean throughput, median latency percentiles."""
    p50s = [r.p50_ms for r in results if r.p50_ms is not None]
    p99s = [r.p99_ms for r in results if r.p99_ms is not None]
    return WrkResult(
        rps=statistics.fmean(r.rps for r in results),
        requests=sum(r.requests for r in results),
        non_2xx=sum(r.non_2xx for r in results),
        socket_errors=sum(r.socket_errors for r in results),
        p50_ms=statistics.median(p50s) if p50s else None,
        p99_ms=statistics.median(p99s) if p99s else None,
    )


def result_line(
    name: str, result: WrkResult, baseline: WrkResult, bench: Benchmark | None, load: Load
) -> dict[str, Any]:
    ratio = round(result.rps / baseline.rps, 3)
    target = bench.target_ratio if bench else None
    return {
        "benchmark": name,
        "rps": round(result.rps, 1),
        "baseline_rps": round(baseline.rps, 1),
        "ratio": ratio,
        "target_ratio": target,
        "meets_target": None if target is None else ratio >= target,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "errors": result.non_2xx,
        "requests": result.requests,
        "wrk": f"-t{load.threads} -c{load.connections}, {load.rounds} x "
        f"{max(1, load.duration // load.rounds)}s alternating with the baseline",
    }


# -- processes and database ---------------------------------------------------


@contextmanager
def bench_database() -> Iterator[str]:
    name = f"fieldline_bench_{uuid.uuid4().hex[:12]}"
    try:
        url = create_database(PG_ADMIN_URL, name)
    except Exception as exc:
        raise BenchmarkFailed(f"cannot create a database at {PG_ADMIN_URL}: {exc}") from exc
    try:
        yield url
    finally:
        drop_database(PG_ADMIN_URL, name)


@contextmanager
def hello_server(workdir: Path, database_url: str | None = None) -> Iterator[str]:
    """The baseline app; with ``database_url`` its ``/select-1`` floor works too."""
    port = free_port()
    env = dict(os.environ)
    if database_url is not None:
        env["FIELDLINE_BENCH_FLOOR_URL"] = database_url
    process = ManagedProcess(
        "hello",
        [sys.executable, "-m", "gunicorn", *GUNICORN_FLAGS, "--bind", f"127.0.0.1:{port}",
         "benchmarks.hello_app:app"],
        env,
        workdir / "hello.log",
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_200(url, process)
        yield url
    finally:
        process.stop()


def wait_for_200(url: str, process: ManagedProcess, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    with requests.Session() as http:
        http.trust_env = False
        while time.monotonic() < deadline:
            if not process.alive():
                raise BenchmarkFailed(f"{process.name} exited:\n{process.log_text()[-3000:]}")
            try:
                if http.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
    raise BenchmarkFailed(f"{url} did not answer 200 within {timeout}s")


def log_in(server: FieldlineServer, seeded: Seeded) -> str:
    with server.http() as http:
        response = http.post(
            server.url("/v1/auth/login"),
            json={"tenant": seeded.tenant, "email": seeded.email, "password": seeded.password},
            timeout=30,
        )
    if response.status_code != 200:
        raise BenchmarkFailed(f"login failed: {response.status_code} {response.text[:500]}")
    return str(response.json()["access_token"])


def verify(target: Target, bench: Benchmark) -> None:
    """The endpoint must answer 200 with the expected body before it is timed."""
    headers = dict(h.split(": ", 1) for h in target.headers)
    with requests.Session() as http:
        http.trust_env = False
        response = http.get(target.url, headers=headers, timeout=10)
    if response.status_code != 200:
        raise BenchmarkFailed(f"{bench.name}: {response.status_code} {response.text[:500]}")
    try:
        bench.check(response.json())
    except AssertionError as exc:
        raise BenchmarkFailed(f"{bench.name}: unexpected body: {exc}") from exc


# -- wrk ----------------------------------------------------------------------


def ensure_wrk() -> None:
    """Install wrk from Debian's packages if it is missing."""
    if shutil.which("wrk"):
        return
    print("wrk not found; installing it with apt-get", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "wrk"]
    if subprocess.run(install, env=env, check=False, timeout=600).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, timeout=600)
        subprocess.run(install, env=env, check=True, timeout=600)


def run_wrk(target: Target, load: Load) -> WrkResult:
    command = [
        "wrk", f"-t{load.threads}", f"-c{load.connections}", f"-d{load.duration}s",
        "--latency", "--timeout", "10s",
    ]  # fmt: skip
    for header in target.headers:
        command += ["-H", header]
    if target.script is not None:
        command += ["-s", target.script]
    completed = subprocess.run(
        [*command, target.url],
        capture_output=True,
        text=True,
        timeout=load.duration + 60,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchmarkFailed(f"wrk exited {completed.returncode}: {completed.stderr}")
    return parse_wrk(completed.stdout)


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(output: str) -> WrkResult:
    """The numbers from wrk's text report (with ``--latency``)."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if not rps or not total:
        raise BenchmarkFailed(f"cannot parse wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    percentiles = {
        p: round(float(v) * _UNITS_MS[u], 3)
        for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    }
    return WrkResult(
        rps=float(rps.group(1)),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
        p50_ms=percentiles.get("50"),
        p99_ms=percentiles.get("99"),
    )


if __name__ == "__main__":
    sys.exit(main())
