"""The pages in Debian's Chromium against a real server, at phone and desktop sizes
and in both languages: they render with no internet (map tiles unreachable), their
own scripts run under the strict Content-Security-Policy, axe-core finds no serious
or critical violation, and a keyboard reaches what matters. Screenshots are kept in
``tests/artifacts/pages/``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.support.pages import LANGUAGES, SIZES, PageVisit, chromium, visit
from tests.support.server import FieldlineServer

pytestmark = pytest.mark.e2e

# Tiles from a port where nothing listens: the map must do without them.
DEAD_TILES = "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"
EVERY_VIEW = [(size, language) for size in SIZES for language in LANGUAGES]


@pytest.fixture(scope="module")
def server(
    e2e_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FieldlineServer]:
    env = {"FIELDLINE_MAP_TILES_URL": DEAD_TILES}
    with FieldlineServer(
        e2e_database_url, tmp_path_factory.mktemp("pages"), with_worker=False, env=env
    ) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


def _checked(visit_: PageVisit, name: str) -> None:
    visit_.screenshot(name)
    assert visit_.serious_accessibility_violations() == []
    assert visit_.csp_violations == [] and visit_.script_errors == []
    assert visit_.blocked == [], f"the page reached outside: {visit_.blocked}"


@pytest.mark.parametrize(("size", "language"), EVERY_VIEW)
def test_the_landing_page_leads_to_each_place(
    server: FieldlineServer, browser: Browser, size: str, language: str
) -> None:
    with visit(browser, size, language) as seen:
        page = seen.page
        page.goto(server.url("/"))
        assert page.locator("html").get_attribute("lang") == language
        page.keyboard.press("Tab")  # the first stop is the skip link
        skip = page.get_by_role(
            "link", name="跳到正文" if language == "zh-CN" else "Skip to content"
        )
        assert skip.evaluate("element => element === document.activeElement")
        _checked(seen, "landing")
        page.get_by_role("link", name="English" if language == "zh-CN" else "中文").click()
        other = "en" if language == "zh-CN" else "zh-CN"
        assert page.locator("html").get_attribute("lang") == other
