"""Chaos fixtures: a real gunicorn (3 workers) on a throwaway PostgreSQL database per test.

The report hooks add the server's log to a failing test and print every chaos
summary line (recorded with ``record_property``) at the end of the session, so
the counts show in CI output even under xdist, whose workers' stdout is not shown.
"""

from __future__ import annotations

import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.conftest import PG_ADMIN_URL
from tests.support.server import FieldlineServer

SUMMARY_KEYS = ("chaos_seed", "chaos_summary")


@pytest.fixture
def chaos_server(tmp_path: Path) -> Iterator[FieldlineServer]:
    from tests.support.postgres import create_database, drop_database

    name = f"fieldline_chaos_{uuid.uuid4().hex[:12]}"
    url = create_database(PG_ADMIN_URL, name)
    try:
        server = FieldlineServer(
            url,
            tmp_path / "server",
            workers=3,
            with_worker=False,  # notifications are not under test; spare the 2 cores
            env={"FIELDLINE_ACCESS_TTL_SECONDS": "3600"},  # no token refresh mid-run
        )
        with server:
            yield server
    finally:
        drop_database(PG_ADMIN_URL, name)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    server = getattr(item, "funcargs", {}).get("chaos_server")
    if report.failed and isinstance(server, FieldlineServer):
        report.sections.extend(server.log_sections(tail=8000))
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = [
        f"{report.nodeid}: {name}={value}"
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", [])
        if name in SUMMARY_KEYS
    ]
    if lines:
        terminalreporter.section("sync chaos")
        for line in lines:
            terminalreporter.write_line(line)
