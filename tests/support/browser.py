"""A real browser for tests: Debian's Chromium driven by Playwright, kept offline.

Every request the page makes to a host other than 127.0.0.1 is aborted and
recorded, so a test can prove a page works without the internet.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.sync_api import Page, Route, sync_playwright

CHROMIUM = "/usr/bin/chromium"
_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@dataclass
class OfflinePage:
    page: Page
    blocked: list[str] = field(default_factory=list)


@contextmanager
def offline_page(width: int = 1280, height: int = 900) -> Iterator[OfflinePage]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            result = OfflinePage(page)

            def guard(route: Route) -> None:
                host = urlsplit(route.request.url).hostname
                if host in ("127.0.0.1", "localhost") or route.request.url.startswith("data:"):
                    route.continue_()
                else:
                    result.blocked.append(route.request.url)
                    route.abort()

            page.route("**/*", guard)
            yield result
        finally:
            browser.close()
