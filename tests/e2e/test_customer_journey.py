"""One customer's repair, end to end, against real processes: ``fieldline serve``
(gunicorn), ``fieldline worker`` (push delivery, PDF rendering), ``fieldline streams``
(the tracking page's live updates), Debian's Chromium at phone size for the customer,
the client SDK over HTTP for the technician, and a local Web Push service.

The customer scans an asset's QR label, files a repair request with a photo and
follows the tracking link; the dispatcher signs in to the console (Chromium at
desktop size), opens the order from its marker on the map and assigns the
top-ranked candidate; the technician's device accepts, sets off and sends GPS fixes
through its positions buffer; the customer's page shows the technician on the way
with an ETA (updated live) and their subscription receives the "on the way" push,
decrypted here as the browser would. The device goes offline, the job is finished
and signed there, then synced; the office seals the report, the worker renders the
PDF, the customer downloads it, checks its seal and rates. Last, tokens of other
orders (same tenant, another tenant) reveal nothing of this one. Screenshots of each
step are kept in ``tests/artifacts/pages/journey-*``.
"""

from __future__ import annotations

import io
import json
import math
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import requests
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, FilePayload, Page, expect
from pypdf import PdfReader

from client_sdk.device import Device
from client_sdk.errors import NetworkError
from dispatch import eta
from sync_protocol.errors import JSONValue
from tests.support.images import jpeg
from tests.support.pages import PageVisit, chromium, visit
from tests.support.positions import ALWAYS
from tests.support.push_service import BrowserKeys, PushService, vapid_claims
from tests.support.server import (
    ADMIN_PASSWORD,
    FieldlineServer,
    TenantSpec,
    free_port,
    json_body,
)

pytestmark = pytest.mark.e2e

T = TypeVar("T")

PASSWORD = "journey-password-42"
DISPATCHER = "dispatcher@e2e.test"
WAIT_MS = 20_000  # the longest a browser step may wait for the server
DEAD_TILES = "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"  # no internet: no map tiles
SITE = (31.2035, 121.5914)  # 张江, Pudong
OTHER = TenantSpec(slug="other", name="另一家公司", admin_email="admin@other.test")
SIGNER = "王芳"
COMMENT = "师傅很专业，准时到达 / on time and careful"
DRAWING: dict[str, JSONValue] = {
    "width": 400,
    "height": 150,
    "strokes": [
        [[20, 100, 0, 0.4], [60, 40, 30, 0.6], [110, 110, 60, 0.7], [160, 50, 90, 0.5]],
        [[200, 80, 400, 0.5], [320, 85, 480, 0.5]],
    ],
}

# The browser's push service (there is none offline) hands back a subscription whose
# endpoint is the local push service; the page's own code does everything else.
_PUSH_STUB = """
PushManager.prototype.subscribe = async function () {
  const made = %s;
  return { toJSON: () => made, unsubscribe: async () => true };
};
"""


STEP_M = 20.0  # how far the technician moves between the two fixes


def _minutes(metres: float) -> int:
    """The ETA in whole minutes from ``metres`` east of the site (what the page shows)."""
    return max(1, math.ceil(eta.estimate(*_east(metres), *SITE).seconds / 60))


def _a_minute_off_in(step_m: float, around_m: float = 5_000.0) -> float:
    """A distance from the site from which moving ``step_m`` closer takes a minute off
    the ETA (the page rounds to minutes): the move then shows however small it is."""
    metres = around_m
    while _minutes(metres) == _minutes(metres - step_m):
        metres += 1.0
    return metres


def _east(metres: float) -> tuple[float, float]:
    """A point ``metres`` east of the site (about 95 km per degree of longitude here)."""
    return SITE[0], SITE[1] + metres / 95_000


@pytest.fixture(scope="module")
def push_service() -> Iterator[PushService]:
    service = PushService().start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def fieldline_server(
    e2e_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FieldlineServer]:
    """API, worker and stream server; the streams' port is chosen first so the pages
    can name it."""
    live_port = free_port()
    env = {
        "FIELDLINE_MAP_TILES_URL": DEAD_TILES,
        "FIELDLINE_PUSH_ALLOW_HTTP_LOOPBACK": "true",
        "FIELDLINE_LIVE_URL": f"http://127.0.0.1:{live_port}/live",
    }
    with FieldlineServer(e2e_database_url, tmp_path_factory.mktemp("journey"), env=env) as server:
        server.start_streams(live_port)
        server.create_tenant(OTHER)
        yield server


@pytest.fixture(autouse=True)
def patient_expect() -> Iterator[None]:
    """Every page check may wait up to :data:`WAIT_MS` (a shared, busy machine), then
    Playwright's default again for other tests."""
    expect.set_options(timeout=WAIT_MS)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@dataclass
class Api:
    """One signed-in caller over HTTP."""

    server: FieldlineServer
    http: requests.Session
    token: str = ""

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = dict(kw.pop("headers", None) or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return self.http.request(method, self.server.url(path), headers=headers, timeout=30, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return json_body(self.call("GET", path, **kw), 200)

    def create(self, path: str, body: dict[str, Any]) -> Any:
        return json_body(self.call("POST", path, json=body), 201)

    def log_in(self, tenant: str, email: str, password: str) -> Api:
        body = {"tenant": tenant, "email": email, "password": password}
        tokens = json_body(
            Api(self.server, self.http).call("POST", "/v1/auth/login", json=body), 200
        )
        return Api(self.server, self.http, tokens["access_token"])


@dataclass
class Office:
    """What the e2e tenant's office set up before the day: a customer with a labelled
    asset at a placed site, a dispatcher, and two technicians (one near, one far)."""

    admin: Api
    dispatcher: Api
    asset_id: str
    asset_name: str
    site_id: str
    customer_id: str
    technician_id: str
    technician_email: str


def _technician(admin: Api, name: str, name_en: str, home_east_m: float) -> tuple[str, str]:
    lat, lon = _east(home_east_m)
    technician = admin.create(
        "/v1/technicians",
        {
            "name": name,
            "name_en": name_en,
            "timezone": "Asia/Shanghai",
            "working_hours": ALWAYS,
            "home_base": {"address": "上海", "position": {"lat": lat, "lon": lon}},
        },
    )
    email = f"tech-{uuid.uuid4().hex[:8]}@e2e.test"
    admin.create(
        "/v1/users",
        {
            "email": email,
            "name": name,
            "role": "technician",
            "password": PASSWORD,
            "technician_id": technician["id"],
        },
    )
    return technician["id"], email


def _office(server: FieldlineServer, http: requests.Session) -> Office:
    spec = TenantSpec()
    admin = Api(server, http).log_in(spec.slug, spec.admin_email, ADMIN_PASSWORD)
    customer = admin.create("/v1/customers", {"name": "张江生物医药", "name_en": "Zhangjiang Bio"})
    site = admin.create(
        "/v1/sites",
        {
            "customer_id": customer["id"],
            "name": "张江实验楼",
            "name_en": "Zhangjiang Lab",
            "address": "上海市浦东新区张江路 100 号",
            "city": "上海",
            "position": {"lat": SITE[0], "lon": SITE[1]},
        },
    )
    asset_name = f"3 号冷库机组 {uuid.uuid4().hex[:4]}"
    asset = admin.create("/v1/assets", {"site_id": site["id"], "name": asset_name})
    admin.create(
        "/v1/users",
        {
            "email": DISPATCHER,
            "name": "调度员",
            "role": "dispatcher",
            "password": PASSWORD,
        },
    )
    dispatcher = Api(server, http).log_in(spec.slug, DISPATCHER, PASSWORD)
    near, email = _technician(admin, "李明", "Ming Li", home_east_m=9_000)
    _technician(admin, "赵强", "Qiang Zhao", home_east_m=30_000)
    return Office(
        admin, dispatcher, asset["id"], asset_name, site["id"], customer["id"], near, email
    )


class Link(httpx.BaseTransport):
    """The phone's network: real HTTP, until it has no signal."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.offline = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.offline:
            raise httpx.ConnectError("no signal", request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def _shot(seen: PageVisit, name: str) -> None:
    seen.screenshot(f"journey-{name}")
    assert seen.serious_accessibility_violations() == []
    assert seen.csp_violations == [] and seen.script_errors == [], (
        seen.csp_violations,
        seen.script_errors,
    )
    assert seen.blocked == [], f"the page reached outside: {seen.blocked}"


def _qr_url(office: Office) -> str:
    """What the asset's printed QR label holds, read from its PNG as a phone would."""
    label = office.admin.call("GET", f"/v1/assets/{office.asset_id}/label?format=png")
    assert label.status_code == 200 and label.headers["Content-Type"] == "image/png"
    (code,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(label.content)))
    return str(code.text)


def _file_repair_request(page: Page, seen: PageVisit, office: Office, qr_url: str) -> str:
    """The customer's side of the QR label; returns the tracking link they were given."""
    page.goto(qr_url)
    expect(page.get_by_text(office.asset_name)).to_be_visible()  # pre-filled from the label
    page.locator("#description").fill("冷库温度降不下来，显示 E4 报警 / not cooling, alarm E4")
    photo = FilePayload(name="alarm.jpg", mimeType="image/jpeg", buffer=jpeg("alarm", (320, 240)))
    page.locator("#photos").set_input_files([photo])
    page.locator("#contact_name").fill("陈先生")
    page.locator("#contact_phone").fill("13800138000")
    _shot(seen, "1-repair-request")
    page.get_by_role("button", name="提交报修").click()
    expect(page.locator("#received-heading")).to_be_visible()
    _shot(seen, "2-received")
    link = page.get_by_role("link", name="查看维修进度")
    href = link.get_attribute("href")
    assert href is not None and re.fullmatch(r"http://127\.0\.0\.1:\d+/t/[A-Za-z0-9_-]{32}", href)
    link.click()
    return href


def _step(page: Page, key: str) -> None:
    """Wait until the page shows ``key`` as the current step (it follows the stream)."""
    expect(page.locator("#tracking")).to_have_attribute("data-step", key)


def _dispatch_from_the_console(browser: Browser, office: Office, number: str) -> str:
    """The dispatcher, at a desktop, signs in to the console, opens the new order from
    its marker on the map and assigns the top-ranked candidate; the order's id."""
    with visit(browser, "desktop", "zh-CN") as desk:
        page = desk.page
        page.goto(office.admin.server.url("/console"))  # not signed in: the form
        page.get_by_label("机构").fill(TenantSpec().slug)
        page.get_by_label("电子邮箱").fill(DISPATCHER)
        page.get_by_label("密码", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="登录", exact=True).click()
        expect(page.get_by_role("heading", name="调度台", level=1)).to_be_visible()
        marker = page.locator("#map path.order-marker")
        expect(marker).to_have_count(1)  # the only open order, placed at its site
        marker.click()
        detail = page.locator("#detail")
        expect(detail.get_by_role("heading", level=2)).to_contain_text(number)
        ranked = detail.locator("#candidates > li")
        expect(ranked).to_have_count(2)
        expect(ranked.nth(0)).to_contain_text("李明")  # the nearer one first
        expect(ranked.nth(1)).to_contain_text("赵强")
        _shot(desk, "4-console-order")
        ranked.nth(0).get_by_role("button", name=f"将 {number} 派给 李明").click()
        expect(page.locator("#detail-message")).to_have_text(f"{number} 已派给 李明。")
        _shot(desk, "4-console-assigned")
    (row,) = [
        item
        for item in office.dispatcher.get("/v1/board/work-orders")["items"]
        if item["number"] == number
    ]
    assert row["assignee"]["id"] == office.technician_id and row["status"] == "assigned"
    return str(row["id"])


def _pushed(push: PushService, keys: BrowserKeys, status: str) -> tuple[Any, dict[str, Any]]:
    """The first push whose decrypted payload says the order reached ``status``."""

    def find() -> tuple[Any, dict[str, Any]] | None:
        for received in list(push.received):
            opened = keys.open(received.body)
            if opened["data"].get("to_status") == status:
                return received, opened
        return None

    return _until(find, f"push for {status}")


def _eta_text(api: Api, token: str) -> str:
    eta = api.get(f"/v1/tracking/{token}")["eta"]
    return f"约 {max(1, math.ceil(eta['seconds'] / 60))} 分钟"


def _pdf_text(pdf: bytes) -> str:
    """pypdf's text without whitespace (it leaves a NUL before each CID character)."""
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"[\s\x00]+", "", text)


def _other_tenants_order(server: FieldlineServer, http: requests.Session) -> str:
    """Another company's customer files a request from their own label: its token."""
    admin = Api(server, http).log_in(OTHER.slug, OTHER.admin_email, OTHER.admin_password)
    customer = admin.create("/v1/customers", {"name": "别家客户"})
    site = admin.create(
        "/v1/sites",
        {"customer_id": customer["id"], "name": "别家站点", "address": "杭州市西湖区"},
    )
    asset = admin.create("/v1/assets", {"site_id": site["id"], "name": "别家设备"})
    label = admin.call("GET", f"/v1/assets/{asset['id']}/label?format=png")
    (code,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(label.content)))
    form = {"description": "漏水", "contact_name": "周女士", "contact_phone": "13900139000"}
    received = json_body(http.post(f"{code.text}/repair-requests", data=form, timeout=30), 201)
    return str(received["tracking_url"].rsplit("/", 1)[1])


def test_a_customer_repair_from_qr_label_to_rating(
    fieldline_server: FieldlineServer,
    browser: Browser,
    push_service: PushService,
    tmp_path: Path,
) -> None:
    server = fieldline_server
    with server.http() as http:
        office = _office(server, http)
        public = Api(server, http)
        keys = BrowserKeys()
        endpoint = f"{push_service.origin}/push/customer-phone"

        with visit(browser, "phone", "zh-CN") as seen:
            page = seen.page
            page.context.grant_permissions(["notifications"], origin=server.base_url)
            page.context.add_init_script(
                script=_PUSH_STUB % json.dumps(keys.subscription(endpoint))
            )

            # 1. The customer scans the label and files a request with a photo.
            tracking_url = _file_repair_request(page, seen, office, _qr_url(office))
            token = tracking_url.rsplit("/", 1)[1]
            view = public.get(f"/v1/tracking/{token}")
            number = view["reference"]
            assert view["current_step"] == "received" and view["title"].endswith(office.asset_name)
            _step(page, "received")

            # ... and turns on notifications for this order.
            page.get_by_role("button", name="通知我").click()
            expect(page.locator("#push-status")).to_have_text("这部手机将收到每一步的通知。")
            expect(page.get_by_role("button", name="通知我")).to_be_hidden()
            subscription_id = page.evaluate(
                "token => localStorage.getItem(`fieldline.push.subscription_id.${token}`)", token
            )
            assert subscription_id
            _shot(seen, "3-tracking-received")

            # 2. The dispatcher assigns the top candidate from the console's map; the
            # customer's page follows live.
            order_id = _dispatch_from_the_console(browser, office, number)
            _step(page, "technician_assigned")
            expect(page.get_by_text("服务师傅：李师傅")).to_be_visible()
            _shot(seen, "4-technician-assigned")

            # 3. The technician's phone pulls the job, accepts it and sets off; GPS flows.
            link = Link()
            device = Device(tmp_path / "phone", transport=link)
            try:
                device.login(server.base_url, TenantSpec().slug, office.technician_email, PASSWORD)
                device.sync()
                assert [job.id for job in device.jobs(finished=False)] == [order_id]
                device.transition(order_id, "accept")
                device.transition(order_id, "start_travel")
                # One fix on leaving, one a little closer later: close enough to the
                # previous one to be plausible, far enough to take a minute off the ETA.
                far = _a_minute_off_in(STEP_M)
                left_at = datetime.now(UTC) + timedelta(milliseconds=1)
                device.record_position(*_east(far), fixed_at=left_at, accuracy_m=8.0)
                first = device.sync()
                assert first.receipts == {"applied": 2} and first.positions.kept == 1

                _step(page, "on_the_way")
                expect(page.locator("#map")).to_be_visible()
                expect(page.get_by_role("heading", name="李师傅正在路上")).to_be_visible()
                minutes = _minutes(far)
                expect(page.locator("#eta")).to_contain_text(f"约 {minutes} 分钟")
                assert _eta_text(public, token) == f"约 {minutes} 分钟"
                shown_lon = float(page.locator("#map").get_attribute("data-lon") or "nan")
                assert shown_lon == pytest.approx(_east(far)[1])
                _shot(seen, "5-on-the-way")

                # The push service got the "on the way" push for this order, encrypted
                # for this browser and signed with the company's VAPID key.
                received, opened = _pushed(push_service, keys, "en_route")
                assert received.path == "/push/customer-phone"
                assert opened["title"] == f"{number} · 师傅正在路上"
                assert opened["url"] == f"/t/{token}"
                assert received.headers["urgency"] == "high" and int(received.headers["ttl"]) > 0
                vapid_key = public.get(f"/v1/tracking/{token}/vapid-public-key")["public_key"]
                claims = vapid_claims(
                    received.headers["authorization"], vapid_key, push_service.origin
                )
                assert claims["sub"].startswith("mailto:")

                # Closer now: the ETA moves on the open page, without a reload.
                # A second after the first fix at the earliest (20 m/s, a van in town): at
                # most that much ahead of the server's clock, which allows minutes.
                closer_at = max(datetime.now(UTC), left_at + timedelta(seconds=1))
                device.record_position(*_east(far - STEP_M), fixed_at=closer_at, accuracy_m=6.0)
                assert device.sync().positions.kept == 1
                expect(page.locator("#eta")).to_contain_text(f"约 {minutes - 1} 分钟")

                # 4. No signal at the site: the job is done and signed offline.
                link.offline = True
                device.transition(order_id, "arrive")
                device.transition(order_id, "start_work")
                device.add_note(order_id, "更换膨胀阀，制冷恢复", customer_visible=True)
                device.sign_off(
                    order_id,
                    SIGNER,
                    drawing=DRAWING,
                    consent_text="本人确认上述服务已完成。",
                    signer_role="实验室主管",
                    position=(SITE[0], SITE[1], 5.0),
                )
                device.transition(order_id, "complete", resolution="更换膨胀阀 / expansion valve")
                assert device.job(order_id).status == "completed"
                with pytest.raises(NetworkError):
                    device.sync()
                assert public.get(f"/v1/tracking/{token}")["status"] == "en_route"
                assert device.status()["pending"] == 5

                link.offline = False
                back = device.sync()
                assert back.receipts == {"applied": 5}, back
                assert device.status()["pending"] == 0
            finally:
                device.close()
                link.close()

            _step(page, "work_done")
            assert page.locator("#map").count() == 0  # nothing live after completion
            _shot(seen, "6-work-done")

            # 5. The office seals the report; the worker renders the PDF.
            sealed = office.dispatcher.create(f"/v1/work-orders/{order_id}/reports", {})
            download = page.get_by_role("link", name="下载服务报告（PDF）")

            def pdf_ready() -> bool:
                page.reload()
                return download.count() == 1

            _until(pdf_ready, "report PDF on the page")
            _step(page, "report_ready")
            _shot(seen, "7-report-ready")
            pdf = page.context.request.get(server.url(str(download.get_attribute("href"))))
            assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
            text = _pdf_text(pdf.body())
            for expected in (number, SIGNER, sealed["seal"]["sha256"]):
                assert expected in text, expected
            verification_path = sealed["verification_path"]  # /v/<token>/verification
            assert verification_path.rsplit("/", 1)[0] in text  # the QR's address

            # The seal check the report links to says it is valid.
            page.get_by_role("link", name="验证签章").click()
            expect(page.locator("#verdict")).to_have_text("有效：此报告与签章时完全一致")
            expect(page.get_by_text(sealed["seal"]["sha256"])).to_be_visible()
            _shot(seen, "8-seal-valid")
            page.go_back()

            # 6. The customer rates.
            page.get_by_label("5", exact=True).check()
            page.locator("#comment").fill(COMMENT)
            page.get_by_role("button", name="提交评价").click()
            expect(page.get_by_text("5 分（满分 5 分）")).to_be_visible()
            expect(page.get_by_text(COMMENT)).to_be_visible()
            _step(page, "rated")
            _shot(seen, "9-rated")

        rating = office.dispatcher.get(f"/v1/work-orders/{order_id}/rating")
        assert (rating["score"], rating["comment"]) == (5, COMMENT)

        # 7. Tenancy: other orders' tokens reveal nothing of this one.
        ours = public.get(f"/v1/tracking/{token}")
        secrets_of_ours = [
            office.asset_name,
            "李明",
            "服务师傅：李师傅",
            ours["report"]["sha256"],
            ours["report"]["verification_page_url"],
            COMMENT,
            token,
        ]
        same_tenant = office.dispatcher.create(
            "/v1/work-orders",
            {"title": "另一张工单", "customer_id": office.customer_id, "site_id": office.site_id},
        )
        shared = office.dispatcher.create(f"/v1/work-orders/{same_tenant['id']}/tracking-link", {})
        others = {
            "same-tenant": shared["token"],
            "other-tenant": _other_tenants_order(server, http),
        }
        for name, other in others.items():
            _reveals_nothing(browser, public, name, other, subscription_id, secrets_of_ours)

        # Our subscription survived the other tokens' attempts on it.
        gone = public.call("DELETE", f"/v1/tracking/{token}/push-subscriptions/{subscription_id}")
        assert gone.status_code == 204


def _reveals_nothing(
    browser: Browser,
    public: Api,
    name: str,
    other: str,
    subscription_id: str,
    ours: list[str],
) -> None:
    """Everything public the ``other`` token opens (page, API, PDF, rating, push) holds
    none of ``ours``, and cannot touch this order's push subscription."""
    view = public.call("GET", f"/v1/tracking/{other}")
    assert view.status_code == 200
    body = view.text
    shown = view.json()
    assert (shown["status"], shown["technician"], shown["report"]) == ("new", None, None)
    with visit(browser, "phone", "zh-CN") as seen:
        response = seen.page.goto(public.server.url(f"/t/{other}"))
        assert response is not None and response.status == 200
        html = seen.page.content()
        _shot(seen, f"10-{name}-order")
    for secret in ours:
        assert secret not in body and secret not in html, secret
    pdf = public.call("GET", f"/v1/tracking/{other}/report/pdf")
    assert pdf.status_code == 404 and pdf.json()["code"] == "tracking.no_report"
    rate = public.call("POST", f"/v1/tracking/{other}/rating", json={"score": 1})
    assert rate.status_code == 409 and rate.json()["code"] == "tracking.not_completed"
    drop = public.call("DELETE", f"/v1/tracking/{other}/push-subscriptions/{subscription_id}")
    assert drop.status_code == 404 and drop.json()["code"] == "push.subscription_not_found"


def _until(found: Callable[[], T | None], what: str, timeout: float = WAIT_MS / 1000) -> T:
    """Poll ``found`` until it gives something (bounded), for what is not on a page."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"no {what} within {timeout}s")
