"""The pages in Debian's Chromium against a real server, at phone and desktop sizes
and in both languages: they render with no internet (map tiles unreachable), their
own scripts run under the strict Content-Security-Policy, axe-core finds no serious
or critical violation, and a keyboard reaches what matters. Screenshots are kept in
``tests/artifacts/pages/``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, expect

from tests.support.pages import LANGUAGES, SIZES, PageVisit, chromium, visit
from tests.support.server import ADMIN_PASSWORD, FieldlineServer, json_body

pytestmark = pytest.mark.e2e

# Tiles from a port where nothing listens: the map must do without them.
DEAD_TILES = "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"
EVERY_VIEW = [(size, language) for size in SIZES for language in LANGUAGES]


@pytest.fixture(scope="module")
def server(
    e2e_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FieldlineServer]:
    env = {"FIELDLINE_MAP_TILES_URL": DEAD_TILES}
    with FieldlineServer(
        e2e_database_url, tmp_path_factory.mktemp("pages"), with_worker=False, env=env
    ) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


def _checked(visit_: PageVisit, name: str) -> None:
    visit_.screenshot(name)
    assert visit_.serious_accessibility_violations() == []
    assert visit_.csp_violations == [] and visit_.script_errors == []
    assert visit_.blocked == [], f"the page reached outside: {visit_.blocked}"


@pytest.mark.parametrize(("size", "language"), EVERY_VIEW)
def test_the_landing_page_leads_to_each_place(
    server: FieldlineServer, browser: Browser, size: str, language: str
) -> None:
    with visit(browser, size, language) as seen:
        page = seen.page
        page.goto(server.url("/"))
        assert page.locator("html").get_attribute("lang") == language
        page.keyboard.press("Tab")  # the first stop is the skip link
        skip = page.get_by_role(
            "link", name="跳到正文" if language == "zh-CN" else "Skip to content"
        )
        assert skip.evaluate("element => element === document.activeElement")
        _checked(seen, "landing")
        page.get_by_role("link", name="English" if language == "zh-CN" else "中文").click()
        other = "en" if language == "zh-CN" else "zh-CN"
        assert page.locator("html").get_attribute("lang") == other


def _admin(server: FieldlineServer) -> requests.Session:
    http = requests.Session()
    http.trust_env = False
    login = http.post(
        server.url("/v1/auth/login"),
        json={"tenant": "e2e", "email": "admin@e2e.test", "password": ADMIN_PASSWORD},
        timeout=30,
    )
    http.headers["Authorization"] = f"Bearer {json_body(login, 200)['access_token']}"
    return http


def _create(http: requests.Session, server: FieldlineServer, path: str, body: dict) -> dict:
    return json_body(http.post(server.url(path), json=body, timeout=30), 201)  # type: ignore[no-any-return]


def test_from_a_qr_label_to_the_tracking_page_and_a_rating_on_a_phone(
    server: FieldlineServer, browser: Browser
) -> None:
    """A passer-by scans an asset's label, reports the fault on their phone, follows the
    link the confirmation gives, and, once the work is done, rates it: all against
    gunicorn, in Chinese, with the pages' scripts under their security policy."""
    office = _admin(server)
    customer = _create(office, server, "/v1/customers", {"name": "静安寺广场物业"})
    site = _create(
        office,
        server,
        "/v1/sites",
        {
            "customer_id": customer["id"],
            "name": "静安寺广场 B1",
            "address": "上海市静安区南京西路 1686 号",
            "position": {"lat": 31.2235, "lon": 121.4456},
        },
    )
    asset = _create(office, server, "/v1/assets", {"site_id": site["id"], "name": "2 号扶梯"})
    label = json_body(
        office.post(server.url(f"/v1/assets/{asset['id']}/label-replacement"), timeout=30), 200
    )["label_url"]
    assert label.startswith(server.url("/r/"))  # what the printed QR code opens

    with visit(browser, "phone", "zh-CN") as seen:
        page = seen.page
        page.goto(label)
        expect(page.get_by_text("2 号扶梯")).to_be_visible()
        page.get_by_label("问题描述").fill("扶梯异响，已停用")
        page.get_by_label("您的姓名").fill("陈女士")
        page.get_by_label("电话").fill("139 1234 5678")
        page.get_by_role("button", name="提交报修").click()
        expect(page.get_by_role("heading", name="报修已受理")).to_be_visible()
        _checked(seen, "journey-received")
        page.get_by_role("link", name="查看维修进度").click()
        expect(page.locator('[aria-current="step"]')).to_contain_text("已受理")
        tracking_url = page.url
        _checked(seen, "journey-tracking")

    orders = office.get(server.url("/v1/work-orders"), timeout=30).json()["items"]
    (order,) = [o for o in orders if o["site_id"] == site["id"]]
    _finish(office, server, order["id"])

    with visit(browser, "phone", "zh-CN") as seen:
        page = seen.page
        page.goto(tracking_url)
        page.get_by_role("radio", name="5").check()
        page.get_by_label("留言").fill("处理及时")
        page.get_by_role("button", name="提交评价").click()
        expect(page.get_by_text("5 分（满分 5 分）")).to_be_visible()
        _checked(seen, "journey-rated")
    rating = office.get(server.url(f"/v1/work-orders/{order['id']}/rating"), timeout=30)
    assert json_body(rating, 200)["comment"] == "处理及时"


def _finish(office: requests.Session, server: FieldlineServer, order_id: str) -> None:
    """The office drives the order to completed (the technician's part is tested elsewhere)."""
    technician = _create(office, server, "/v1/technicians", {"name": "赵师傅"})
    steps = [
        {"action": "assign", "assignee_id": technician["id"]},
        {"action": "accept"},
        {"action": "start_travel"},
        {"action": "arrive"},
        {"action": "start_work"},
        {"action": "complete", "resolution": "更换驱动链"},
    ]
    for step in steps:
        response = office.post(
            server.url(f"/v1/work-orders/{order_id}/transitions"), json=step, timeout=30
        )
        assert response.status_code == 200, response.text
