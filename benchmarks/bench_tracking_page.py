"""The customer's tracking page on its first load: how many bytes a phone downloads.

The heaviest moment of the page is while the technician is on the way: the map
(Leaflet, its stylesheet and ours) loads with the timeline. This benchmark seeds
such an order (a technician who set off 30 minutes ago and a fix 3 km from the
site, arranged through the real services on a throwaway SQLite database), serves
the app over HTTP, opens ``/t/<token>`` in Debian's Chromium with an empty cache
at phone size, and adds up what crossed the wire for the page itself: HTML, CSS,
JavaScript and fonts, compressed as served, headers included. Map tiles are left
out (none are configured); the page has no images of its own.

The budget is 100 KB (102,400 bytes); ``ratio`` is bytes / budget (target ≤ 1).
The same run also times the page's server-side rendering against the tracking
API's JSON (the same service call) and ``/healthz``, in-process, in alternating
rounds: ``page_vs_api_ratio`` is what rendering the page costs beyond the data.

Prints one JSON line. Run: ``python -m benchmarks.bench_tracking_page``.
"""

from __future__ import annotations

import os

os.environ.setdefault("FIELDLINE_PASSWORD_PROFILE", "CHEAPEST")  # before any api import

import json
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from playwright.sync_api import Request, sync_playwright

from api.app import create_app
from api.config import Config
from api.db import UnitOfWorkFactory, make_engine
from api.migrations import upgrade
from api.workorders.states import Status
from tests.support.api_client import ApiClient
from tests.support.browser import _ARGS, CHROMIUM
from tests.support.factories import Factories
from tests.support.factories.core import SECRET
from tests.support.live_server import served
from tests.support.positions import ALWAYS, Tracked, fix

BUDGET_BYTES = 100 * 1024
ROUNDS = 5
PER_ROUND = 50
_KINDS = {"document", "stylesheet", "script", "font"}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="fieldline-bench-tracking-") as workdir:
        url = f"sqlite:///{Path(workdir) / 'fieldline.db'}"
        engine = make_engine(url)
        upgrade(engine)
        config = Config(
            data_dir=Path(workdir),
            database_url=url,
            secret_key=SECRET,  # the factories sign their tokens with it
            embedded_worker=False,
            tracking_rate_limit="100000/minute",
        )
        app = create_app(replace(config, map_tiles_url=""))
        token = _en_route_order(app, engine)
        transfer = _first_load(app, token)
        timing = _render_times(app, token)
        app.extensions["fieldline"].uow.dispose()
        engine.dispose()
    total = sum(transfer.values())
    print(
        json.dumps(
            {
                "benchmark": "tracking_page_first_load",
                "bytes": total,
                "budget_bytes": BUDGET_BYTES,
                "ratio": round(total / BUDGET_BYTES, 3),
                "target_ratio": 1.0,
                "meets_target": total <= BUDGET_BYTES,
                "by_kind": transfer,
                **timing,
            }
        )
    )


def _en_route_order(app: Flask, engine: Any) -> str:
    client = ApiClient(app.test_client())
    factories = Factories(UnitOfWorkFactory(engine))
    tracked = Tracked(
        client, factories, engine, working_hours=ALWAYS, name="张伟", name_en="Wei Zhang"
    )
    world = tracked.world
    customer = factories.customer(world)
    site = factories.site(world, customer, city="上海")
    order = factories.work_order(world, customer, site)
    factories.advance(world, order, Status.EN_ROUTE, tracked.technician)
    factories.backdate(order.id, timedelta(minutes=30))
    tracked.send(fix(1, 3000))
    shared = client.as_(world.admin_token).post(f"/v1/work-orders/{order.id}/tracking-link")
    token: str = shared.get_json()["token"]
    return token


def _first_load(app: Flask, token: str) -> dict[str, int]:
    """Bytes on the wire by resource kind, for one load with an empty cache."""
    by_kind: dict[str, int] = {}
    requests: list[Request] = []
    with served(app) as origin, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=_ARGS)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
            page = context.new_page()
            # A bound method is refused by Playwright (it tags its handlers with an attribute).
            page.on("requestfinished", lambda request: requests.append(request))  # noqa: PLW0108
            page.goto(f"{origin}/t/{token}", wait_until="networkidle")
            assert page.locator("#map path").count() > 0, "the map did not draw"
            for request in requests:
                kind = request.resource_type
                if kind not in _KINDS:
                    continue
                sizes = request.sizes()
                size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
                by_kind[kind] = by_kind.get(kind, 0) + size
        finally:
            browser.close()
    return by_kind


def _render_times(app: Flask, token: str) -> dict[str, Any]:
    """Median milliseconds per request of the page, of the tracking API it shows (the
    same service call, as JSON) and of ``/healthz``, in alternating rounds."""
    client = app.test_client()
    headers = {"Accept-Language": "zh-CN", "Accept-Encoding": "gzip"}
    paths = {"page": f"/t/{token}", "api": f"/v1/tracking/{token}", "healthz": "/healthz"}
    times: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(ROUNDS):
        for name, path in paths.items():
            started = time.perf_counter()
            for _ in range(PER_ROUND):
                assert client.get(path, headers=headers).status_code == 200
            times[name].append((time.perf_counter() - started) * 1000 / PER_ROUND)
    page, api, hello = (statistics.median(times[name]) for name in paths)
    return {
        "page_render_ms": round(page, 2),
        "api_json_ms": round(api, 2),
        "baseline_healthz_ms": round(hello, 2),
        "page_vs_api_ratio": round(api / page, 3),
    }


if __name__ == "__main__":
    main()
