"""The pages in a real browser: Debian's Chromium at phone and desktop sizes, offline,
with axe-core (from npm) checking accessibility and screenshots kept for people.

Screenshots go to ``tests/artifacts/pages/`` (git-ignored), named by page, size
and language, so a reviewer can look at what the tests saw. axe-core is added to
every document through the DevTools protocol (as an init script), which the
pages' Content-Security-Policy does not block, while the pages' own scripts stay
under it: a policy violation is reported as a console error and fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, ConsoleMessage, Page, Route, sync_playwright

from tests.support.browser import _ARGS, CHROMIUM

REPO_ROOT = Path(__file__).resolve().parents[2]
AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO_ROOT / "tests" / "artifacts" / "pages"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
LANGUAGES = ("zh-CN", "en")


@dataclass
class PageVisit:
    page: Page
    size: str
    language: str
    blocked: list[str] = field(default_factory=list)  # requests to anywhere but here
    csp_violations: list[str] = field(default_factory=list)  # console reports
    script_errors: list[str] = field(default_factory=list)  # uncaught exceptions

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}-{self.size}-{self.language}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def serious_accessibility_violations(self) -> list[dict[str, Any]]:
        """axe-core's violations of impact serious or critical (WCAG 2.1 AA rules)."""
        found: list[dict[str, Any]] = self.page.evaluate(
            """async () => {
                const result = await axe.run(document, {
                    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                                    'best-practice']}
                });
                return result.violations
                    .filter(v => v.impact === 'serious' || v.impact === 'critical')
                    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
            }"""
        )
        return found


@contextmanager
def chromium() -> Iterator[Browser]:
    assert AXE.is_file(), (
        "axe-core missing: run `npm ci` at the repository's root (./dev test does)"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def visit(browser: Browser, size: str, language: str) -> Iterator[PageVisit]:
    """A fresh context (no cookies) at ``size`` whose browser prefers ``language``."""
    context = browser.new_context(viewport=SIZES[size], locale=language)  # type: ignore[arg-type]
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    result = PageVisit(page, size, language)

    def guard(route: Route) -> None:
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            result.blocked.append(route.request.url)
            route.abort()

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            result.csp_violations.append(message.text)

    page.route("**/*", guard)
    page.on("console", console)
    page.on("pageerror", lambda error: result.script_errors.append(str(error)))
    try:
        yield result
    finally:
        context.close()
