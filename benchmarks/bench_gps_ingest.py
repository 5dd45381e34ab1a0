"""GPS ingest over HTTP, in batches of 1,000 fixes, ÷ PostgreSQL's own bulk paths.

``python -m benchmarks.bench_gps_ingest [--devices 4] [--batches 20] [--rounds 3]``

Starts ``fieldline serve --workers 2`` on a throwaway PostgreSQL database, signs in
``--devices`` technicians (each on shift, each with its own device) and has each
send ``--batches`` batches of 1,000 fixes to ``POST /v1/sync/positions``, all
devices at once (one thread each, one keep-alive connection each). The bodies are
built before the clock starts. Every answer must be 200 with all 1,000 fixes kept,
or the run fails.

Baselines, in the same run, with the same rows on the same database: ``COPY`` into
a table shaped like ``technician_positions`` (its primary key and trail index
included), and psycopg's ``executemany`` of a plain ``INSERT``. Prints ONE JSON
line: fixes/s over HTTP, each baseline's fixes/s, the ratios, and the per-batch
p50 latency. Target: ≥ 50,000 fixes/s over HTTP.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import psycopg
import requests

from tests.support.postgres import create_database, drop_database
from tests.support.server import ADMIN_PASSWORD, FieldlineServer, TenantSpec

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BATCH = 1000
ALWAYS = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
PASSWORD = "bench-technician-42"


def _technician(http: requests.Session, base: str, admin: str, n: int) -> str:
    auth = {"Authorization": f"Bearer {admin}"}
    tech = http.post(
        f"{base}/v1/technicians",
        json={"name": f"技师 {n}", "employee_no": f"B{n:04d}", "working_hours": ALWAYS},
        headers=auth,
        timeout=30,
    )
    tech.raise_for_status()
    email = f"tech{n}@bench.test"
    user = http.post(
        f"{base}/v1/users",
        json={
            "email": email,
            "name": f"技师 {n}",
            "role": "technician",
            "password": PASSWORD,
            "technician_id": tech.json()["id"],
        },
        headers=auth,
        timeout=30,
    )
    user.raise_for_status()
    login = http.post(
        f"{base}/v1/auth/login",
        json={"tenant": TenantSpec().slug, "email": email, "password": PASSWORD},
        timeout=30,
    )
    login.raise_for_status()
    return str(login.json()["access_token"])


def _fixes(start: datetime, first: int, count: int, lat: float) -> list[dict[str, object]]:
    """Fixes ``first`` to ``first + count`` of a technician moving north at 9 m/s, one
    every 5 ms of device time from ``start`` (so three rounds of 80,000 fit in the
    last 9 minutes and none is in the future)."""
    return [
        {
            "fixed_at": (start + timedelta(milliseconds=5 * i)).isoformat().replace("+00:00", "Z"),
            "lat": lat + i * 0.005 / 111_000,
            "lon": 121.47,
            "accuracy_m": 5.0,
            "speed_mps": 1.0,
        }
        for i in range(first, first + count)
    ]


def _send(base: str, token: str, device: str, bodies: list[bytes], latencies: list[float]) -> None:
    http = requests.Session()
    http.trust_env = False
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for body in bodies:
        started = time.perf_counter()
        answer = http.post(f"{base}/v1/sync/positions", data=body, headers=headers, timeout=120)
        latencies.append(time.perf_counter() - started)
        if answer.status_code != 200 or answer.json()["accepted"] != BATCH:
            raise RuntimeError(f"batch not kept: {answer.status_code} {answer.text[:300]}")


def _baselines(url: str, rows: list[tuple[object, ...]]) -> tuple[float, float]:
    columns = "tenant_id, device_id, fixed_at, technician_id, lat, lon, accuracy_m, received_at"
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(
            "CREATE TABLE bench_copy (LIKE technician_positions INCLUDING ALL);"
            "CREATE TABLE bench_many (LIKE technician_positions INCLUDING ALL)"
        )
        started = time.perf_counter()
        with db.cursor() as cursor, cursor.copy(f"COPY bench_copy ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        copy_s = time.perf_counter() - started
        started = time.perf_counter()
        with db.transaction(), db.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO bench_many ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                rows,
            )
        many_s = time.perf_counter() - started
        db.execute("DROP TABLE bench_copy; DROP TABLE bench_many")
    return len(rows) / copy_s, len(rows) / many_s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    name = f"fieldline_bench_{uuid.uuid4().hex[:8]}"
    url = create_database(PG_ADMIN, name)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-gps-") as tmp:
            server = FieldlineServer(
                url.replace("postgresql://", "postgresql+psycopg://", 1),
                Path(tmp),
                workers=2,
                with_worker=False,
                env={"FIELDLINE_ACCESS_TTL_SECONDS": "3600"},
            )
            with server:
                result = _run(server, url, args)
    finally:
        drop_database(PG_ADMIN, name)
    print(json.dumps(result))


def _run(server: FieldlineServer, url: str, args: argparse.Namespace) -> dict[str, object]:
    http = server.http()
    admin = http.post(
        server.url("/v1/auth/login"),
        json={
            "tenant": TenantSpec().slug,
            "email": TenantSpec().admin_email,
            "password": ADMIN_PASSWORD,
        },
        timeout=30,
    ).json()["access_token"]
    tokens = [_technician(http, server.base_url, admin, n) for n in range(args.devices)]
    devices = [str(uuid.uuid4()) for _ in tokens]
    for token, device in zip(tokens, devices, strict=True):
        registered = http.post(
            server.url("/v1/sync/positions"),
            json={"device_id": device, "fixes": []},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        registered.raise_for_status()
    per_round = args.batches * BATCH
    # Every fix within the last 9 minutes (a device's fixes may predate its first sync by 10).
    start = datetime.now(UTC) - timedelta(minutes=9)
    rates, latencies = [], []
    for round_no in range(args.rounds):
        bodies = [
            [
                orjson.dumps(
                    {
                        "device_id": device,
                        "fixes": _fixes(
                            start, per_round * round_no + BATCH * b, BATCH, 31.2 + d * 0.01
                        ),
                    }
                )
                for b in range(args.batches)
            ]
            for d, device in enumerate(devices)
        ]
        threads = [
            threading.Thread(target=_send, args=(server.base_url, token, device, mine, latencies))
            for token, device, mine in zip(tokens, devices, bodies, strict=True)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rates.append(per_round * len(devices) / (time.perf_counter() - started))
    rows = [
        (
            uuid.uuid4(),
            "bench",
            start + timedelta(microseconds=i),
            uuid.uuid4(),
            31.2,
            121.47,
            5.0,
            datetime.now(UTC),
        )
        for i in range(per_round * len(devices))
    ]
    copy_rate, many_rate = _baselines(url, rows)
    http_rate = statistics.median(rates)
    return {
        "benchmark": "gps_ingest",
        "database": "postgresql",
        "devices": args.devices,
        "fixes_per_round": per_round * len(devices),
        "fixes_per_s": round(http_rate),
        "copy_fixes_per_s": round(copy_rate),
        "executemany_fixes_per_s": round(many_rate),
        "ratio_to_copy": round(http_rate / copy_rate, 3),
        "ratio_to_executemany": round(http_rate / many_rate, 3),
        "batch_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "target_fixes_per_s": 50_000,
        "meets_target": http_rate >= 50_000,
    }


if __name__ == "__main__":
    main()
