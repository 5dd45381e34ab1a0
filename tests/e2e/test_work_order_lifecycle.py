"""A work order's whole life over real HTTP: gunicorn, a separate outbox worker, a real DB.

The admin sets up the people and places through the API, a dispatcher creates
and assigns an order, the technician drives it from their phone (a session
with a device id) to completion, the dispatcher closes it. The history must
show every step with the right actor, the worker *process* must turn the
status changes into notifications for the technician and the customer
contact, and the server's JSON log must carry the request id and no secret.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from tests.support.server import ADMIN_PASSWORD, FieldlineServer, TenantSpec, json_body

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-user-password-42"
NOTIFICATION_TIMEOUT = 15.0


@dataclass
class Http:
    """One caller: a base URL, a bearer token and the secrets it has seen (for the log check)."""

    server: FieldlineServer
    session: requests.Session
    token: str | None = None
    secrets: list[str] = field(default_factory=list)

    def as_(self, token: str) -> Http:
        return Http(self.server, self.session, token, self.secrets)

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = dict(kw.pop("headers", None) or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return self.session.request(
            method, self.server.url(path), headers=headers, timeout=30, **kw
        )

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.call("POST", path, json=body, **kw)

    def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a create and return the new object (asserting 201)."""
        return json_body(self.post(path, body), 201)  # type: ignore[no-any-return]

    def log_in(self, email: str, password: str, device_id: str | None = None) -> Http:
        body: dict[str, Any] = {"tenant": TenantSpec().slug, "email": email, "password": password}
        if device_id:
            body["device_id"] = device_id
        tokens = json_body(self.as_("").post("/v1/auth/login", body), 200)
        self.secrets.extend([password, tokens["access_token"], tokens["refresh_token"]])
        return self.as_(tokens["access_token"])


@dataclass
class Cast:
    """Everyone and everything the lifecycle needs, created through the API."""

    dispatcher: Http
    dispatcher_id: str
    technician: Http
    technician_user_id: str
    technician_id: str
    contact: Http
    contact_user_id: str
    customer_id: str
    site_id: str
    category_path: list[dict[str, Any]]


@pytest.fixture
def http(fieldline_server: FieldlineServer) -> Iterator[Http]:
    with fieldline_server.http() as session:
        yield Http(fieldline_server, session)


def _user(admin: Http, role: str, suffix: str, **link: str) -> tuple[dict[str, Any], str]:
    email = f"{role}-{suffix}@e2e.test"
    body = {"email": email, "name": f"{role} {suffix}", "role": role, "password": PASSWORD}
    return admin.create("/v1/users", {**body, **link}), email


def _categories(admin: Http, suffix: str) -> list[dict[str, Any]]:
    names = [("暖通空调", "HVAC"), ("中央空调", "Central air"), ("不制冷", "Not cooling")]
    path: list[dict[str, Any]] = []
    for level, (name, name_en) in enumerate(names, start=1):
        body: dict[str, Any] = {"code": f"C{level}-{suffix}", "name": name, "name_en": name_en}
        if path:
            body["parent_id"] = path[-1]["id"]
        path.append(admin.create("/v1/categories", body))
    return path


def _cast(http: Http) -> Cast:
    suffix = uuid.uuid4().hex[:8]
    admin = http.log_in(TenantSpec().admin_email, ADMIN_PASSWORD)
    dispatcher_user, dispatcher_email = _user(admin, "dispatcher", suffix)
    customer = admin.create(
        "/v1/customers", {"name": "上海申通电梯", "name_en": "Shentong Elevators", "tier": "vip"}
    )
    contact = admin.create(
        f"/v1/customers/{customer['id']}/contacts", {"name": "王经理", "name_en": "Manager Wang"}
    )
    contact_user, contact_email = _user(admin, "customer_contact", suffix, contact_id=contact["id"])
    site = admin.create(
        "/v1/sites",
        {
            "customer_id": customer["id"],
            "name": "浦东仓库",
            "address": "上海市浦东新区张江路 100 号",
            "position": {"lat": 31.2035, "lon": 121.5914},
        },
    )
    technician = admin.create("/v1/technicians", {"name": "李师傅", "name_en": "Master Li"})
    tech_user, tech_email = _user(admin, "technician", suffix, technician_id=technician["id"])
    return Cast(
        dispatcher=http.log_in(dispatcher_email, PASSWORD),
        dispatcher_id=dispatcher_user["id"],
        technician=http.log_in(tech_email, PASSWORD, device_id=f"phone-{suffix}"),
        technician_user_id=tech_user["id"],
        technician_id=technician["id"],
        contact=http.log_in(contact_email, PASSWORD),
        contact_user_id=contact_user["id"],
        customer_id=customer["id"],
        site_id=site["id"],
        category_path=_categories(admin, suffix),
    )


def _transition(caller: Http, order: dict[str, Any], action: str, **extra: str) -> dict[str, Any]:
    """Take one action on the order; returns the order as the server now has it."""
    response = caller.post(
        f"/v1/work-orders/{order['id']}/transitions",
        {"action": action, **extra},
        headers={"If-Match": f'"{order["version"]}"'},
    )
    return json_body(response, 200)  # type: ignore[no-any-return]


# (who acts, action, extra body, status afterwards)
TECHNICIAN_STEPS = [
    ("accept", {}, "accepted"),
    ("start_travel", {}, "en_route"),
    ("arrive", {}, "on_site"),
    ("start_work", {}, "in_progress"),
    ("pause", {"reason": "等待备件 / waiting for a part"}, "paused"),
    ("resume", {}, "in_progress"),
    ("complete", {"resolution": "更换压缩机电容 / replaced the compressor capacitor"}, "completed"),
]


def _drive(cast: Cast, order: dict[str, Any]) -> dict[str, Any]:
    order = _transition(cast.dispatcher, order, "assign", assignee_id=cast.technician_id)
    assert order["status"] == "assigned" and order["assignee_id"] == cast.technician_id
    for action, extra, status in TECHNICIAN_STEPS:
        order = _transition(cast.technician, order, action, **extra)
        assert order["status"] == status, (action, order)
    assert order["completed_at"] is not None
    order = _transition(cast.dispatcher, order, "close")
    assert order["status"] == "closed" and order["closed_at"] is not None
    return order


def _poll_notifications(caller: Http, order_id: str, wanted: set[str]) -> set[str]:
    """The to_status of the caller's notifications about the order, once all wanted arrived."""
    deadline = time.monotonic() + NOTIFICATION_TIMEOUT
    seen: set[str] = set()
    while time.monotonic() < deadline:
        page = json_body(caller.get("/v1/notifications", params={"limit": 200}), 200)
        seen = {
            item["data"]["to_status"]
            for item in page["items"]
            if item["data"].get("work_order_id") == order_id
        }
        if wanted <= seen:
            return seen
        time.sleep(0.2)
    raise AssertionError(
        f"after {NOTIFICATION_TIMEOUT}s saw {sorted(seen)}, wanted {sorted(wanted)}; "
        f"outbox rows not done: {caller.server.outbox_state()}"
    )


def test_work_order_lifecycle_runs_end_to_end_over_real_processes(
    fieldline_server: FieldlineServer, http: Http
) -> None:
    cast = _cast(http)
    leaf = cast.category_path[-1]
    request_id = f"e2e-{uuid.uuid4().hex}"
    created = cast.dispatcher.post(
        "/v1/work-orders",
        {
            "title": "3 号冷库不制冷",
            "description": "Cold room 3 is not cooling",
            "customer_id": cast.customer_id,
            "site_id": cast.site_id,
            "category_id": leaf["id"],
            "priority": "urgent",
        },
        headers={"X-Request-ID": request_id},
    )
    assert created.headers["X-Request-ID"] == request_id
    order = json_body(created, 201)
    assert order["status"] == "new" and re.fullmatch(r"WO-\d{6}", order["number"])
    read = json_body(cast.dispatcher.get(f"/v1/work-orders/{order['id']}"), 200)
    assert [c["id"] for c in read["category"]["path"]] == [c["id"] for c in cast.category_path]

    _drive(cast, order)

    history = json_body(cast.dispatcher.get(f"/v1/work-orders/{order['id']}/history"), 200)
    office, tech = cast.dispatcher_id, cast.technician_user_id
    expected = [
        ("create", None, "new", office),
        ("assign", "new", "assigned", office),
        *[(a, None, s, tech) for a, _, s in TECHNICIAN_STEPS],
        ("close", "completed", "closed", office),
    ]
    steps = [
        (h["action"], h["from_status"], h["to_status"], h["actor_id"]) for h in history["items"]
    ]
    assert [(a, s, who) for a, _, s, who in steps] == [(a, s, who) for a, _, s, who in expected]
    # Each step starts where the previous one ended.
    assert all(steps[i][1] == steps[i - 1][2] for i in range(1, len(steps)))
    assert steps[0][1] is None and history["next_cursor"] is None

    # The separate worker process turns status changes into notifications.
    assert {"assigned", "closed"} <= _poll_notifications(
        cast.technician, order["id"], {"assigned", "closed"}
    )
    customer_visible = {"assigned", "en_route", "on_site", "completed"}
    seen_by_contact = _poll_notifications(cast.contact, order["id"], customer_visible)
    assert seen_by_contact == customer_visible  # internal steps are not the customer's business

    _assert_log_has_request_id_and_no_secrets(fieldline_server, request_id, http.secrets)


def _assert_log_has_request_id_and_no_secrets(
    server: FieldlineServer, request_id: str, secrets: list[str]
) -> None:
    records = []
    for line in server.log_text("serve").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue  # gunicorn's own start-up lines are plain text
    tagged = [r for r in records if isinstance(r, dict) and r.get("request_id") == request_id]
    assert tagged, f"no JSON log line with request_id {request_id}"
    assert any(r.get("path") == "/v1/work-orders" and r.get("status") == 201 for r in tagged)
    logs = server.log_text("serve") + server.log_text("worker")
    leaked = [s for s in set(secrets) | {ADMIN_PASSWORD, PASSWORD} if s and s in logs]
    assert not leaked, "a password or token reached the log"


def test_request_id_is_echoed_and_a_fresh_one_is_made_when_absent_or_unsafe(
    fieldline_server: FieldlineServer, http: Http
) -> None:
    echoed = http.get("/healthz", headers={"X-Request-ID": "client-42.retry_1"})
    assert echoed.status_code == 200 and echoed.headers["X-Request-ID"] == "client-42.retry_1"
    for headers in ({}, {"X-Request-ID": "bad id\twith spaces"}):
        fresh = http.get("/v1/me", headers=headers)
        assert fresh.status_code == 401
        assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["X-Request-ID"])
        # The problem document carries the same id, for the user to quote in a bug report.
        assert fresh.json()["trace_id"] == fresh.headers["X-Request-ID"]
