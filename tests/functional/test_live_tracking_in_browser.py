"""The tracking page in Chromium follows its order through the live stream: with the
page's clock frozen (so it cannot poll), a step taken by the technician still shows
at once, and the stream server's origin is allowed by the page's policy."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from api.config import Config
from api.live.stream.app import Limits
from api.live.stream.run import ThreadedStreams
from api.workorders.states import Status
from tests.functional.test_tracking import Job
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.live_server import pages_app, served
from tests.support.pages import chromium, visit
from tests.support.positions import fix


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.fixture
def streams(config: Config, engine: object) -> Iterator[ThreadedStreams]:
    server = ThreadedStreams(
        replace(config, tracking_rate_limit="1000/minute"),
        limits=Limits(heartbeat_seconds=3600, recheck_seconds=3600),
    ).start()
    yield server
    server.stop()


@pytest.fixture
def origin(config: Config, streams: ThreadedStreams) -> Iterator[str]:
    live = f"http://127.0.0.1:{streams.port}/live"  # another origin, as in embedded mode
    with pages_app(config, live_url=live) as app, served(app) as url:
        yield url


def test_the_tracking_page_moves_on_when_the_stream_says_so(
    origin: str, browser: Browser, client: ApiClient, factories: Factories, engine: object
) -> None:
    job = Job(client, factories, engine)  # type: ignore[arg-type]
    job.to(Status.EN_ROUTE)
    job.factories.backdate(job.order.id, timedelta(minutes=30))
    job.share()
    job.tracked.send(fix(1, 3000))
    with visit(browser, "phone", "en") as seen:
        page = seen.page
        page.clock.install()  # timers frozen: no polling; only the stream can move the page
        page.goto(f"{origin}/t/{job.token}")
        expect(page.locator("#eta")).to_contain_text("About 10 min")
        page.wait_for_function("document.getElementById('tracking').dataset.stream")
        page.wait_for_timeout(500)  # the stream opened and sent its first view
        job.tracked.send(fix(0, 1000))  # closer now: the ETA moves without a reload
        expect(page.locator("#eta")).to_contain_text("About 4 min")
        job.to(Status.ON_SITE)
        expect(page.locator('[aria-current="step"]')).to_contain_text("Arrived")
        assert seen.csp_violations == [] and seen.script_errors == []


def test_the_map_appears_with_the_first_fix_after_setting_off(
    origin: str, browser: Browser, client: ApiClient, factories: Factories, engine: object
) -> None:
    job = Job(client, factories, engine)  # type: ignore[arg-type]
    job.to(Status.EN_ROUTE)  # on the way, and no fix since setting off yet
    job.share()
    with visit(browser, "phone", "en") as seen:
        page = seen.page
        page.clock.install()  # no polling: the stream alone brings the first fix
        page.goto(f"{origin}/t/{job.token}")
        assert page.locator("#map").count() == 0
        page.wait_for_function("document.getElementById('tracking').dataset.stream")
        page.wait_for_timeout(500)  # the stream opened and sent its first view
        job.tracked.send(fix(0, 3000))
        expect(page.locator("#eta")).to_contain_text("About 10 min")
        expect(page.locator("#map")).to_be_visible()
        assert seen.csp_violations == [] and seen.script_errors == []
