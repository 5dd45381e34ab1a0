"""The pages behind printed QR codes in Chromium, at phone and desktop sizes, in both
languages, offline: the report's seal check and the repair request (报修), sent from
the keyboard. axe-core finds no serious or critical violation; screenshots are kept
in ``tests/artifacts/pages/``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.config import Config
from api.signoff.models import SealedReport
from api.workorders.states import Status
from tests.functional.test_public_pages import _asset, _page_of, _sealed
from tests.functional.test_tracking import Job
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.live_server import pages_app, served
from tests.support.pages import LANGUAGES, SIZES, PageVisit, chromium, visit

EVERY_VIEW = [(size, language) for size in SIZES for language in LANGUAGES]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.fixture
def origin(config: Config, engine: Engine) -> Iterator[str]:
    with pages_app(config) as app, served(app) as url:
        yield url


def _checked(seen: PageVisit, name: str) -> None:
    seen.screenshot(name)
    assert seen.serious_accessibility_violations() == []
    assert seen.csp_violations == [] and seen.script_errors == []
    assert seen.blocked == [], f"the page reached outside: {seen.blocked}"


def test_the_seal_check_reads_valid_then_not_valid_once_the_report_is_changed(
    origin: str, browser: Browser, client: ApiClient, factories: Factories, engine: Engine
) -> None:
    job = Job(client, factories, engine)
    job.to(Status.COMPLETED)
    sealed = _sealed(job)
    for verdict in ("valid", "tampered"):
        if verdict == "tampered":
            with Session(engine) as session, session.begin():
                row = session.get_one(SealedReport, uuid.UUID(sealed["id"]))
                row.report = row.report.replace(job.order.number, "WO-999999")
        for size, language in EVERY_VIEW:
            with visit(browser, size, language) as seen:
                seen.page.goto(f"{origin}{_page_of(sealed)}")
                expect(seen.page.locator("#verdict")).to_be_visible()
                _checked(seen, f"verify-{verdict}")


def test_a_repair_request_is_sent_from_the_keyboard_and_confirmed_with_its_link(
    origin: str, browser: Browser, factories: Factories
) -> None:
    asset, token = _asset(factories)
    for size, language in EVERY_VIEW:
        with visit(browser, size, language) as seen:
            seen.page.goto(f"{origin}/r/{token}")
            name = "3 号冷水机组" if language == "zh-CN" else asset.name_en
            expect(seen.page.get_by_text(str(name), exact=True)).to_be_visible()
            _checked(seen, "repair-form")
    with visit(browser, "phone", "en") as seen:
        page = seen.page
        page.goto(f"{origin}/r/{token}")
        page.get_by_label("Describe the problem").focus()
        page.keyboard.type("Alarm E07, no cooling")
        page.keyboard.press("Tab")  # the photos
        page.keyboard.press("Tab")
        page.keyboard.type("Mr Li")
        page.keyboard.press("Tab")
        page.keyboard.type("138 0013 8000")
        page.keyboard.press("Tab")  # email: optional
        page.keyboard.press("Tab")  # the honeypot is skipped: the button is next
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Repair request received")).to_be_visible()
        _checked(seen, "repair-received")
        page.get_by_role("link", name="Follow my repair").click()
        expect(page.get_by_role("heading", name="Progress")).to_be_visible()
