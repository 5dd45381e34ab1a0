"""The README's first command, as a new user runs it: `fieldline quickstart` with
no configuration at all (SQLite in the data folder, a generated secret key shared
by the gunicorn workers, the embedded outbox worker, the demo tenant)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import backend
from tests.support.server import ManagedProcess, free_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        backend() != "sqlite", reason="the quickstart is the embedded SQLite default"
    ),
]

PASSWORD = "fieldline-demo"


def _wait_ready(http: requests.Session, base: str, process: ManagedProcess) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.alive(), process.log_text()[-4000:]
        try:
            if http.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"quickstart not ready:\n{process.log_text()[-4000:]}")


def _login(http: requests.Session, base: str, email: str) -> str:
    response = http.post(
        f"{base}/v1/auth/login",
        json={"tenant": "demo", "email": email, "password": PASSWORD},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_quickstart_serves_the_demo_with_every_login_and_a_working_worker(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDLINE_")}
    env.update({"FIELDLINE_DATA_DIR": str(tmp_path / "var"), "PYTHONUNBUFFERED": "1"})
    port = free_port()
    process = ManagedProcess(
        "quickstart",
        [sys.executable, "-m", "api", "quickstart", "--port", str(port)],  # as in the README
        env,
        tmp_path / "quickstart.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with requests.Session() as http:
            http.trust_env = False
            _wait_ready(http, base, process)
            home = http.get(f"{base}/", timeout=10)  # the landing page, leading to the docs
            assert home.status_code == 200 and 'href="/docs"' in home.text
            tokens = {
                email.split("@")[0]: _login(http, base, email)
                for email in (
                    "admin@demo.fieldline.dev",
                    "dispatcher@demo.fieldline.dev",
                    "tech01@demo.fieldline.dev",
                    "contact01@demo.fieldline.dev",
                )
            }
            dispatcher = {"Authorization": f"Bearer {tokens['dispatcher']}"}
            tech = {"Authorization": f"Bearer {tokens['tech01']}"}
            me = http.get(f"{base}/v1/me", headers=tech, timeout=10).json()
            new_orders = http.get(
                f"{base}/v1/work-orders?status=new&limit=1", headers=dispatcher, timeout=10
            )
            order = new_orders.json()["items"][0]
            assigned = http.post(
                f"{base}/v1/work-orders/{order['id']}/transitions",
                json={"action": "assign", "assignee_id": me["technician_id"]},
                headers=dispatcher,
                timeout=10,
            )
            assert assigned.status_code == 200, assigned.text
            deadline = time.monotonic() + 20  # the embedded worker delivers the notice
            mine: list[dict[str, object]] = []
            while time.monotonic() < deadline and not mine:
                items = http.get(f"{base}/v1/notifications", headers=tech, timeout=10).json()[
                    "items"
                ]
                mine = [n for n in items if n["data"]["work_order_id"] == order["id"]]
                time.sleep(0.3)
            assert mine, process.log_text()[-4000:]
            assert mine[0]["title"].startswith("工单 " + order["number"])
    finally:
        process.stop()
    key = tmp_path / "var" / "secret_key"
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_text().strip()) >= 48
