"""Live updates across real processes: a change the API's gunicorn workers commit
reaches a browser's stream held by the separate ``fieldline streams`` process (on
PostgreSQL through LISTEN/NOTIFY, on SQLite through the relay socket), the README's
one command starts it all, and a lost listening connection recovers."""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from api.live.stream.feeds import APPLICATION_NAME
from tests.conftest import PG_ADMIN_URL, backend
from tests.support.server import (
    ADMIN_PASSWORD,
    FieldlineServer,
    ManagedProcess,
    TenantSpec,
    free_port,
)
from tests.support.sse import EventStream

pytestmark = pytest.mark.e2e


class Office:
    """The e2e tenant's admin, over HTTP: makes orders and asks for stream tickets."""

    def __init__(self, base: str, http: requests.Session, tenant: str, email: str, password: str):
        self.base, self.http = base, http
        login = http.post(
            f"{base}/v1/auth/login",
            json={"tenant": tenant, "email": email, "password": password},
            timeout=10,
        )
        assert login.status_code == 200, login.text
        self.headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

    def post(self, path: str, body: dict[str, Any] | None = None, status: int = 201) -> Any:
        response = self.http.post(f"{self.base}{path}", json=body, headers=self.headers, timeout=10)
        assert response.status_code == status, response.text
        return response.json()

    def new_order(self) -> str:
        customer = self.post("/v1/customers", {"name": "实时客户", "tier": "standard"})
        site = self.post(
            "/v1/sites",
            {
                "customer_id": customer["id"],
                "name": "站点",
                "address": "上海市黄浦区人民大道 200 号",
            },
        )
        order = self.post(
            "/v1/work-orders",
            {"title": "实时更新", "customer_id": customer["id"], "site_id": site["id"]},
        )
        return str(order["id"])

    def console_path(self, last_event_id: str | None = None) -> str:
        url = self.post("/v1/live/tickets")["console_url"]
        path = "/" + url.split("/", 3)[3]
        return path + (f"&last_event_id={last_event_id}" if last_event_id else "")


@pytest.fixture(scope="module")
def live_server(
    e2e_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FieldlineServer, int]]:
    with FieldlineServer(
        e2e_database_url, tmp_path_factory.mktemp("live-server"), with_worker=False
    ) as server:
        yield server, server.start_streams()


@pytest.fixture
def office(live_server: tuple[FieldlineServer, int]) -> Iterator[Office]:
    server, _ = live_server
    with server.http() as http:
        spec = TenantSpec()
        yield Office(server.base_url, http, spec.slug, spec.admin_email, ADMIN_PASSWORD)


def test_a_change_committed_by_the_api_reaches_the_stream_process(
    live_server: tuple[FieldlineServer, int], office: Office
) -> None:
    _, port = live_server
    with EventStream(port, office.console_path()) as stream:
        assert stream.status == 200
        stream.until(lambda e: e.kind == "ready")
        order_id = office.new_order()  # committed by a gunicorn worker, another process
        event = stream.until(lambda e: e.kind == "work_order" and e.data["id"] == order_id)
    assert event.data["status"] == "new"


@pytest.mark.skipif(backend() != "postgresql", reason="kills PostgreSQL's listening backend")
def test_the_stream_recovers_when_its_database_connection_is_killed(
    live_server: tuple[FieldlineServer, int], office: Office
) -> None:
    server, port = live_server
    database = server.database_url.rsplit("/", 1)[1]
    with EventStream(port, office.console_path()) as stream:
        stream.until(lambda e: e.kind == "ready")
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND application_name = %s",
                (database, APPLICATION_NAME),
            ).fetchall()
        assert killed, "no listening connection found"
        # Notices sent while nobody listened are lost: the stream says so, then goes on.
        resync = stream.until(lambda e: e.kind == "resync", timeout=20)
        assert resync.data["reason"] == "feed_reconnected"
        order_id = office.new_order()
        stream.until(lambda e: e.kind == "work_order" and e.data["id"] == order_id)
        assert stream.last_id is not None
        last = stream.last_id
    # A console that was away resumes from its last event.
    order_id = office.new_order()
    with EventStream(port, office.console_path(last_event_id=last)) as stream:
        missed = stream.kinds_until("ready")
    assert [e.data["id"] for e in missed if e.kind == "work_order"] == [order_id]
    with server.http() as http:
        health = http.get(f"http://127.0.0.1:{port}/live/health", timeout=5).json()
    assert health["feed"] == "up" and health["reconnects"] >= 1


def _two_free_ports() -> int:
    """A free port whose next one is free too (the embedded stream server's)."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two free ports in a row")


@pytest.mark.skipif(backend() != "sqlite", reason="the quickstart is the embedded SQLite default")
def test_the_quickstart_serves_live_updates_with_its_one_command(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDLINE_")}
    env.update(
        {
            "FIELDLINE_DATA_DIR": str(tmp_path / "var"),
            "FIELDLINE_PASSWORD_PROFILE": "CHEAPEST",
            "PYTHONUNBUFFERED": "1",
        }
    )
    port = _two_free_ports()
    process = ManagedProcess(
        "quickstart",
        [sys.executable, "-m", "api", "quickstart", "--port", str(port)],
        env,
        tmp_path / "quickstart.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with requests.Session() as http:
            http.trust_env = False
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                assert process.alive(), process.log_text()[-4000:]
                try:
                    if (
                        http.get(f"{base}/readyz", timeout=2).ok
                        and http.get(f"http://127.0.0.1:{port + 1}/live/health", timeout=2).ok
                    ):
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.2)
            office = Office(base, http, "demo", "dispatcher@demo.fieldline.dev", "fieldline-demo")
            ticket = office.post("/v1/live/tickets")
            assert ticket["console_url"].startswith(f"http://127.0.0.1:{port + 1}/live/console?")
            page = http.get(f"{base}/", timeout=10)
            assert f"http://127.0.0.1:{port + 1}" in page.headers["Content-Security-Policy"]
            with EventStream(port + 1, office.console_path()) as stream:
                assert stream.status == 200
                stream.until(lambda e: e.kind == "ready")
                order_id = office.new_order()
                stream.until(lambda e: e.kind == "work_order" and e.data["id"] == order_id)
    finally:
        process.stop()
    assert not (tmp_path / "var" / "fieldline.db.live").exists()  # the stream server tidied up
