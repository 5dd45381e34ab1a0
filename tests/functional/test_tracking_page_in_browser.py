"""The customer's tracking page in Chromium, at phone and desktop sizes, in both
languages, offline with the map tiles unreachable: axe-core finds no serious or
critical violation, the map draws the technician on a plain background, the page
follows the order without a reload by the customer, and the rating form works from
the keyboard. Screenshots are kept in ``tests/artifacts/pages/``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from api.config import Config
from api.db import UnitOfWorkFactory
from api.push.models import TrackingPushSubscription
from api.workorders.states import Status
from tests.functional.test_tracking import Job
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.live_server import pages_app, served
from tests.support.pages import LANGUAGES, SIZES, PageVisit, chromium, visit
from tests.support.photos import camera_jpeg
from tests.support.positions import fix
from tests.support.push_service import BrowserKeys

EVERY_VIEW = [(size, language) for size in SIZES for language in LANGUAGES]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.fixture
def origin(config: Config, engine: object) -> Iterator[str]:
    with pages_app(config) as app, served(app) as url:
        yield url


@pytest.fixture
def job(client: ApiClient, factories: Factories, engine: object) -> Job:
    return Job(client, factories, engine)  # type: ignore[arg-type]


def _checked(seen: PageVisit, name: str) -> None:
    seen.screenshot(name)
    assert seen.serious_accessibility_violations() == []
    assert seen.csp_violations == [] and seen.script_errors == []
    assert seen.blocked == [], f"the page reached outside: {seen.blocked}"


def _en_route(job: Job) -> None:
    photo = job.tracked.api.request(
        "PUT",
        f"/v1/technicians/{job.tracked.technician.id}/photo",
        data=camera_jpeg((900, 1200), orientation=None),
        headers={"Content-Type": "image/jpeg"},
    )
    assert photo.status_code == 200  # Wei set his own photo
    job.to(Status.EN_ROUTE)
    job.factories.backdate(job.order.id, timedelta(minutes=30))
    job.share()
    job.tracked.send(fix(1, 3000))


def test_on_the_way_the_page_shows_the_eta_and_the_technician_on_a_plain_map(
    origin: str, browser: Browser, job: Job
) -> None:
    _en_route(job)
    for size, language in EVERY_VIEW:
        with visit(browser, size, language) as seen:
            page = seen.page
            page.goto(f"{origin}/t/{job.token}")
            heading = "张师傅正在路上" if language == "zh-CN" else "Wei is on the way"
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
            expect(page.locator("#map path")).not_to_have_count(0)
            alt = "张师傅的照片" if language == "zh-CN" else "Photo of Wei"
            photo = page.get_by_role("img", name=alt)
            expect(photo).to_be_visible()
            expect(photo).to_have_js_property("complete", True)
            assert photo.evaluate("img => img.naturalWidth") == 320  # the portrait loaded
            _checked(seen, "tracking-en-route")


def test_the_page_follows_the_technician_to_the_door_without_a_reload(
    origin: str, browser: Browser, job: Job
) -> None:
    _en_route(job)
    with visit(browser, "phone", "en") as seen:
        page = seen.page
        page.clock.install()
        page.goto(f"{origin}/t/{job.token}")
        expect(page.locator("#eta")).to_contain_text("About 10 min")
        job.to(Status.ON_SITE)
        page.clock.run_for(16_000)  # the next refresh, 15 s after the page opened
        current = page.locator('[aria-current="step"]')
        expect(current).to_contain_text("Arrived")
        expect(page.locator("#map")).to_have_count(0)  # nothing of the position once there


def test_finished_work_is_rated_from_the_keyboard(origin: str, browser: Browser, job: Job) -> None:
    _en_route(job)  # with the technician's photo, which the finished page no longer shows
    job.to(Status.COMPLETED)
    job.share()
    job.admin.post(f"/v1/work-orders/{job.order.id}/reports", json={})
    for size, language in EVERY_VIEW:
        with visit(browser, size, language) as seen:
            seen.page.goto(f"{origin}/t/{job.token}")
            expect(seen.page.locator("img.technician-photo")).to_have_count(0)
            _checked(seen, "tracking-done")
    with visit(browser, "phone", "en") as seen:
        page = seen.page
        page.goto(f"{origin}/t/{job.token}")
        page.get_by_role("radio", name="5").focus()
        page.keyboard.press("Space")
        page.get_by_label("Comment").focus()
        page.keyboard.type("准时，专业 <b>thanks</b>")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # the focused "Send my rating" button
        expect(page.get_by_text("5 out of 5")).to_be_visible()
        expect(page.get_by_text("准时，专业 <b>thanks</b>")).to_be_visible()
        _checked(seen, "tracking-rated")


def test_an_ended_link_is_a_page_a_person_can_read(origin: str, browser: Browser, job: Job) -> None:
    first = job.share()["token"]
    job.share()
    for size, language in EVERY_VIEW:
        with visit(browser, size, language) as seen:
            response = seen.page.goto(f"{origin}/t/{first}")
            assert response is not None and response.status == 410
            _checked(seen, "tracking-ended")


# What the browser's push service would hand back (there is none offline); the page's
# own code does the rest.
_PUSH_STUB = """
PushManager.prototype.subscribe = async function () {
  const made = %s;
  return { toJSON: () => made, unsubscribe: async () => true };
};
"""


def test_the_customer_turns_on_notifications_from_the_page(
    origin: str, browser: Browser, job: Job, uow_factory: UnitOfWorkFactory
) -> None:
    _en_route(job)
    made = BrowserKeys().subscription("https://push.example.com/send/phone-1")
    with visit(browser, "phone", "zh-CN") as seen:
        page = seen.page
        page.context.grant_permissions(["notifications"], origin=origin)
        page.context.add_init_script(script=_PUSH_STUB % json.dumps(made))
        page.goto(f"{origin}/t/{job.token}")
        page.get_by_role("button", name="通知我").click()
        expect(page.locator("#push-status")).to_have_text("这部手机将收到每一步的通知。")
        expect(page.get_by_role("button", name="通知我")).to_be_hidden()  # done: no second tap
        _checked(seen, "tracking-notify")
    with uow_factory.reader() as uow:
        row = uow.session.scalars(select(TrackingPushSubscription)).one()
    assert (row.work_order_id, row.endpoint, row.language) == (
        job.order.id,
        made["endpoint"],
        "zh-CN",
    )
