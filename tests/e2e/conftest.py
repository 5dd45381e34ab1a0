"""End-to-end fixtures: a real ``fieldline serve`` + ``fieldline worker`` per module.

These tests never use the in-process ``engine``/``app`` fixtures: they talk to
gunicorn over HTTP on 127.0.0.1, against their own database (a temporary
SQLite file, or a throwaway PostgreSQL database when ``FIELDLINE_TEST_DB`` is
``postgresql``). When a test fails, the server's and worker's logs are added
to its report.
"""

from __future__ import annotations

import uuid
from collections.abc import Generator, Iterator

import pytest

from tests.conftest import PG_ADMIN_URL, backend
from tests.support.server import FieldlineServer


@pytest.fixture(scope="module")
def e2e_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend() == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'fieldline.db'}"
        return
    from tests.support.postgres import create_database, drop_database

    name = f"fieldline_e2e_{uuid.uuid4().hex[:12]}"
    url = create_database(PG_ADMIN_URL, name)
    yield url
    drop_database(PG_ADMIN_URL, name)


@pytest.fixture(scope="module")
def fieldline_server(
    e2e_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FieldlineServer]:
    """A migrated database with tenant ``e2e`` and its admin, served by 2 workers."""
    with FieldlineServer(e2e_database_url, tmp_path_factory.mktemp("e2e-server")) as server:
        yield server


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    server = getattr(item, "funcargs", {}).get("fieldline_server")
    if report.failed and isinstance(server, FieldlineServer):
        report.sections.extend(server.log_sections())
    return report
