"""Scan lookup by barcode, side by side with the hello baseline (like ``work_order_read``).

Seeds a tenant through the real services (a dispatcher; 5 customers with a site
each; 400 assets with EAN-13 barcodes; the scanned asset with 3 closed and 2 open
work orders), starts ``fieldline serve`` and the bare Flask baseline exactly as
``benchmarks.run`` does, then times in alternating rounds with wrk:

* ``scan_lookup``: ``POST /v1/scans`` ``{"code": ..., "symbology": "ean_13"}`` as a
  dispatcher: check digit, tenant-scoped lookup, site, warranty, open orders and
  service history in one answer;
* ``scan_by_barcode``: ``GET /v1/assets/by-barcode/{code}``: the plain asset lookup.

Prints one JSON line per benchmark (fields as ``benchmarks.run``: rps,
baseline_rps, ratio, p50/p99). Needs PostgreSQL on 127.0.0.1:5432 and wrk (installed
with apt-get if missing). Run: ``python -m benchmarks.bench_scan_lookup``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import requests

from api.assets import services as asset_services
from api.auth.actor import Actor
from api.auth.permissions import Role
from api.customers import services as customer_services
from api.db import UnitOfWorkFactory, make_engine
from api.sites import services as site_services
from api.users import services as user_services
from api.workorders import services as order_services
from api.workorders import transitions
from benchmarks.bench_work_orders import PASSWORD, Benchmark, Seeded
from benchmarks.run import (
    BenchmarkFailed,
    Load,
    Target,
    bench_database,
    ensure_wrk,
    hello_server,
    log_in,
    measure,
    result_line,
)
from media.barcodes import gs1_check_digit
from tests.support.server import FieldlineServer

TENANT = "bench-scan"
EMAIL = "dispatcher@scan.bench.test"
ASSETS = 400


def ean13(n: int) -> str:
    payload = f"690{n:09d}"
    return payload + str(gs1_check_digit(payload))


def seed(database_url: str) -> tuple[Seeded, str]:
    """The seeded tenant, and the code whose asset has history and open orders."""
    engine = make_engine(database_url)
    uow = UnitOfWorkFactory(engine)
    try:
        admin = user_services.create_tenant_with_admin(
            uow(), slug=TENANT, name="扫码基准", admin_email="admin@scan.bench.test",
            admin_password=PASSWORD,
        )  # fmt: skip
        admin_actor = Actor(tenant_id=admin.tenant_id, role=Role.ADMIN, user_id=admin.id)
        user = user_services.create_user(
            uow(), admin_actor,
            {"email": EMAIL, "name": "调度员", "role": Role.DISPATCHER, "password": PASSWORD},
        )  # fmt: skip
        actor = Actor(tenant_id=admin.tenant_id, role=Role.DISPATCHER, user_id=user.id)
        places = []
        for n in range(5):
            customer = customer_services.create_customer(uow(), actor, {"name": f"客户 {n}"})
            site = site_services.create_site(
                uow(), actor,
                {"customer_id": customer.id, "name": f"站点 {n}", "address": f"上海 {n} 号",
                 "position": {"lat": 31.2, "lon": 121.5}},
            )  # fmt: skip
            places.append((customer.id, site.id))
        for n in range(ASSETS):
            _, site_id = places[n % len(places)]
            data: dict[str, Any] = {
                "site_id": site_id, "name": f"空调机组 {n}", "barcode_value": ean13(n),
                "barcode_symbology": "ean_13", "warranty_ends_on": "2030-12-31",
            }  # fmt: skip
            asset = asset_services.create_asset(uow(), actor, data)
        customer_id, site_id = places[(ASSETS - 1) % len(places)]
        for n in range(5):
            order = order_services.create_work_order(
                uow(), actor,
                {"title": f"维修 {n}", "customer_id": customer_id, "site_id": site_id,
                 "asset_ids": [asset.id]},
            )  # fmt: skip
            if n < 3:
                transitions.transition_work_order(
                    uow(), actor, order.id, {"action": "cancel", "reason": "重复报修"}
                )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()
    return Seeded(TENANT, EMAIL, PASSWORD, ""), ean13(ASSETS - 1)


def _check_scan(body: Any) -> None:
    assert body["asset"]["barcode_symbology"] == "ean_13", body
    assert len(body["open_work_orders"]) == 2 and len(body["service_history"]) == 3, body
    assert body["warranty"]["status"] == "active", body


def _verify(target: Target, method: str, body: Any, check: Any) -> None:
    headers = dict(h.split(": ", 1) for h in target.headers)
    with requests.Session() as http:
        http.trust_env = False
        response = http.request(method, target.url, headers=headers, json=body, timeout=10)
    if response.status_code != 200:
        raise BenchmarkFailed(f"{target.url}: {response.status_code} {response.text[:500]}")
    check(response.json())


def run(load: Load) -> list[dict[str, Any]]:
    lines = []
    with bench_database() as database_url, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        server = FieldlineServer(
            database_url, Path(tmp) / "fieldline", workers=2, with_worker=False, tenant=None,
            env={"FIELDLINE_PASSWORD_PROFILE": "RFC_9106_LOW_MEMORY",
                 "FIELDLINE_ACCESS_TTL_SECONDS": "3600"},
        )  # fmt: skip
        with server, hello_server(Path(tmp), database_url) as hello_url:
            seeded, code = seed(database_url)
            token = log_in(server, seeded)
            auth = [f"Authorization: Bearer {token}", "Content-Type: application/json"]
            hello = Target(hello_url, [])
            body = {"code": code, "symbology": "ean_13"}
            script = Path(tmp) / "scan.lua"
            script.write_text(f'wrk.method = "POST"\nwrk.body = {json.dumps(json.dumps(body))}\n')
            scan = Target(server.url("/v1/scans"), auth, str(script))
            _verify(scan, "POST", body, _check_scan)
            by_code = Target(server.url(f"/v1/assets/by-barcode/{code}"), auth[:1])
            _verify(by_code, "GET", None, _check_asset(code))
            for name, target, what in (
                ("scan_lookup", scan, "POST /v1/scans: check digit, asset, site, warranty, "
                 "2 open orders and 3 past ones"),
                ("scan_by_barcode", by_code, "GET /v1/assets/by-barcode/{code}"),
            ):  # fmt: skip
                baseline, result = measure([hello, target], load)
                bench = Benchmark(name, target.url, what, None, lambda _: None)
                lines.append(result_line(name, result, baseline, bench, load))
    return lines


def _check_asset(code: str) -> Any:
    def check(body: Any) -> None:
        if body.get("barcode_value") != code:
            raise BenchmarkFailed(f"by-barcode: unexpected body {body}")

    return check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per target")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    ensure_wrk()
    try:
        for line in run(Load(args.duration, 2, args.connections, args.rounds)):
            print(json.dumps(line, ensure_ascii=False), flush=True)
    except BenchmarkFailed as exc:
        print(f"BENCHMARK FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
