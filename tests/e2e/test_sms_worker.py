"""SMS configured the way an operator does it: ``FIELDLINE_SMS_*`` in the environment of a
real ``fieldline serve`` and ``fieldline worker``, the provider a local fake of Alibaba
Cloud SMS. An order assigned over HTTP reaches the customer's mobile as a signed
``SendSms`` with the template code, and its link opens the order on the server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.support.server import ADMIN_PASSWORD, FieldlineServer, TenantSpec, json_body
from tests.support.sms_provider import KEY_ID, KEY_SECRET, FakeSmsProvider

pytestmark = pytest.mark.e2e

PUBLIC = "https://track.example.cn"
WAIT_SECONDS = 30.0  # a busy machine: the worker polls every second


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeSmsProvider]:
    fake = FakeSmsProvider().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def fieldline_server(
    e2e_database_url: str, tmp_path_factory: pytest.TempPathFactory, provider: FakeSmsProvider
) -> Iterator[FieldlineServer]:
    env = {
        "FIELDLINE_PUBLIC_URL": PUBLIC,
        "FIELDLINE_SMS_PROVIDER": "aliyun",
        "FIELDLINE_SMS_ENDPOINT": provider.origin,
        "FIELDLINE_SMS_KEY_ID": KEY_ID,
        "FIELDLINE_SMS_KEY_SECRET": KEY_SECRET,
        "FIELDLINE_SMS_SENDER": "菲尔德服务",
        "FIELDLINE_SMS_TEMPLATES": json.dumps({"zh-CN": {"assigned": "SMS_900"}}),
    }
    with FieldlineServer(e2e_database_url, tmp_path_factory.mktemp("sms"), env=env) as server:
        yield server


def test_an_order_assigned_over_http_is_texted_by_the_worker_process(
    fieldline_server: FieldlineServer, provider: FakeSmsProvider
) -> None:
    with fieldline_server.http() as http:

        def call(method: str, path: str, token: str = "", **kw: Any) -> requests.Response:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            headers.update(kw.pop("headers", {}))
            url = fieldline_server.url(path)
            return http.request(method, url, headers=headers, timeout=30, **kw)

        spec = TenantSpec()
        login = {"tenant": spec.slug, "email": spec.admin_email, "password": ADMIN_PASSWORD}
        admin = json_body(call("POST", "/v1/auth/login", json=login), 200)["access_token"]
        customer = json_body(
            call("POST", "/v1/customers", admin, json={"name": "上海申通电梯", "tier": "vip"}), 201
        )
        contact = {"name": "王经理", "phone": "+86 139 1234 5678", "is_primary": True}
        json_body(
            call("POST", f"/v1/customers/{customer['id']}/contacts", admin, json=contact), 201
        )
        site = {"customer_id": customer["id"], "name": "浦东仓库", "address": "张江路 100 号"}
        site_id = json_body(call("POST", "/v1/sites", admin, json=site), 201)["id"]
        technician = json_body(call("POST", "/v1/technicians", admin, json={"name": "李强"}), 201)
        body = {"title": "电梯异响", "customer_id": customer["id"], "site_id": site_id}
        order = json_body(call("POST", "/v1/work-orders", admin, json=body), 201)
        assigned = call(
            "POST",
            f"/v1/work-orders/{order['id']}/transitions",
            admin,
            json={"action": "assign", "assignee_id": technician["id"]},
            headers={"If-Match": f'"{order["version"]}"'},
        )
        json_body(assigned, 200)

        deadline = time.monotonic() + WAIT_SECONDS
        while not provider.texts and time.monotonic() < deadline:
            time.sleep(0.2)
        (text,) = provider.texts
        assert text.signed and text.to == "13912345678"
        assert text.form["TemplateCode"] == "SMS_900" and text.form["SignName"] == "菲尔德服务"
        params = text.params
        assert params["number"] == order["number"] and params["technician"] == "李师傅"
        assert params["link"].startswith(f"{PUBLIC}/t/")
        token = params["link"].rsplit("/", 1)[1]
        tracked = json_body(call("GET", f"/v1/tracking/{token}"), 200)
        assert tracked["reference"] == order["number"]

        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            kept = json_body(
                call("GET", f"/v1/work-orders/{order['id']}/sms-messages", admin), 200
            )["items"]
            if kept and kept[0]["status"] != "pending":
                break
            time.sleep(0.2)
        assert [(t["status"], t["phone"]) for t in kept] == [("sent", "+8613912345678")]
