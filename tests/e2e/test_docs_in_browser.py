"""The interactive API docs render in a real browser with no internet access."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.browser import offline_page
from tests.support.server import FieldlineServer

pytestmark = pytest.mark.e2e


def test_the_docs_page_renders_every_endpoint_offline(
    fieldline_server: FieldlineServer, tmp_path: Path
) -> None:
    with offline_page() as browser:
        page = browser.page
        page.goto(fieldline_server.url("/docs"), wait_until="networkidle")
        page.wait_for_selector(".opblock", timeout=20_000)
        title = page.locator(".info .title").inner_text()
        operations = page.locator(".opblock").count()
        # Open one operation: the interactive part works (try-it-out button shows).
        page.locator(".opblock-summary").first.click()
        page.wait_for_selector(".try-out__btn", timeout=10_000)
        page.screenshot(path=str(tmp_path / "docs.png"), full_page=False)
    assert "Fieldline API" in title
    assert operations >= 40
    assert browser.blocked == [], f"the docs page tried to reach the internet: {browser.blocked}"
