"""The dispatcher console in Chromium, offline with the map tiles unreachable, at phone
and desktop sizes: a dispatcher signs in with the form, sees the open orders and the
technicians on the map and in the list, opens an order and assigns its best candidate
in one action, and the board shows the change; an order changed meanwhile is refused
with a clear message; a change made elsewhere reaches the console through the live
stream without a reload. axe-core finds no serious or critical violation; screenshots
are kept in ``tests/artifacts/pages/``."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine

from api.auth.permissions import Role
from api.config import Config
from api.db import UnitOfWorkFactory, utcnow
from api.live.stream.app import Limits
from api.live.stream.run import ThreadedStreams
from api.tenants.models import Tenant
from api.workorders.states import Status
from sync_protocol.merge import Outcome
from sync_protocol.mutations import PatchWorkOrder
from tests.functional.test_candidates import hire, place
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.factories.core import PASSWORD, World
from tests.support.live_server import pages_app, served
from tests.support.pages import PageVisit, chromium, visit
from tests.support.photos import PhotoJob, camera_jpeg, run_worker
from tests.support.positions import ALWAYS, LAT, LON, Tracked, fix
from tests.support.push import Device


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.fixture
def origin(config: Config, engine: object) -> Iterator[str]:
    with pages_app(config) as app, served(app) as url:
        yield url


@dataclass
class Office:
    world: World
    email: str
    near_name: str
    far_name: str
    order_number: str
    order_id: uuid.UUID
    far_id: uuid.UUID


@pytest.fixture
def office(client: ApiClient, factories: Factories, engine: Engine) -> Office:
    world = factories.tenant()
    dispatcher, _ = factories.user(world, Role.DISPATCHER)
    near = hire(factories, world, 50_000, name="王伟", name_en="Wang Wei")
    far = hire(factories, world, 50_000, name="李娜", name_en="Li Na")
    place(engine, world, near, 500, minutes_ago=3)
    place(engine, world, far, 7_000, minutes_ago=3)
    customer = factories.customer(world)
    site = factories.site(world, customer, position={"lat": LAT, "lon": LON})
    order = factories.work_order(world, customer, site, title="Chiller not cooling")
    other_site = factories.site(world, customer, position={"lat": LAT + 0.02, "lon": LON})
    factories.advance(
        world, factories.work_order(world, customer, other_site), Status.ASSIGNED, far
    )
    photo = client.as_(world.admin_token).request(
        "PUT",
        f"/v1/technicians/{far.id}/photo",
        data=camera_jpeg((600, 800), orientation=None),
        headers={"Content-Type": "image/jpeg"},
    )
    assert photo.status_code == 200  # 李娜 has a photo; 王伟 has none
    return Office(world, dispatcher.email, near.name, far.name, order.number, order.id, far.id)


def _sign_in(seen: PageVisit, origin: str, office: Office, words: dict[str, str]) -> Page:
    page = seen.page
    page.goto(f"{origin}/console")  # not signed in: the form
    page.get_by_label(words["organisation"]).fill(office.world.slug)
    page.get_by_label(words["email"]).fill(office.email)
    page.get_by_label(words["password"], exact=True).fill(PASSWORD)
    page.get_by_role("button", name=words["sign_in"], exact=True).click()
    expect(page.get_by_role("heading", name=words["console"], level=1)).to_be_visible()
    return page


def _checked(seen: PageVisit, name: str) -> None:
    seen.screenshot(name)
    assert seen.serious_accessibility_violations() == []
    assert seen.csp_violations == [] and seen.script_errors == []
    assert seen.blocked == [], f"the page reached outside: {seen.blocked}"


ENGLISH = {
    "organisation": "Organisation", "email": "Email", "password": "Password",
    "sign_in": "Sign in", "console": "Dispatch console", "assign": "Assign",
}  # fmt: skip
CHINESE = {
    "organisation": "机构", "email": "电子邮箱", "password": "密码",
    "sign_in": "登录", "console": "调度台", "assign": "派单",
}  # fmt: skip


def test_a_dispatcher_assigns_the_best_candidate_from_the_desktop_console(
    origin: str, browser: Browser, office: Office
) -> None:
    with visit(browser, "desktop", "en") as seen:
        page = seen.page
        page.goto(f"{origin}/sign-in")
        _checked(seen, "console-sign-in")
        page = _sign_in(seen, origin, office, ENGLISH)
        orders = page.locator("#orders")
        expect(orders.get_by_role("button")).to_have_count(2)
        expect(page.locator("#map path.order-marker")).to_have_count(2)
        expect(page.locator("#map .technician-marker")).to_have_count(2)
        # 李娜 is drawn as her photo, on the map and in the list; 王伟 by his initial.
        photo_marker = page.locator("#map .technician-marker--photo img")
        expect(photo_marker).to_have_count(1)
        expect(page.locator("#technicians img.avatar")).to_have_count(1)
        expect(page.locator("#technicians .avatar--initial")).to_have_text("王")
        for image in (photo_marker, page.locator("#technicians img.avatar")):
            expect(image).to_have_js_property("complete", True)
            assert image.evaluate("img => img.naturalWidth") == 96  # the portrait loaded
        expect(page.locator("#technicians")).to_contain_text(office.near_name)
        page.locator("#map path.technician-marker").first.hover()
        expect(page.locator(".leaflet-tooltip")).to_contain_text("Available")  # activity
        _checked(seen, "console-board")

        orders.get_by_role("button", name=f"{office.order_number} · Chiller not cooling").click()
        detail = page.locator("#detail")
        expect(detail.get_by_role("heading", level=2)).to_contain_text(office.order_number)
        first = detail.locator("#candidates > li").first
        expect(first).to_contain_text(office.near_name)
        expect(first).to_contain_text("Travel")  # the score's parts
        _checked(seen, "console-order")

        first.get_by_role(
            "button", name=f"Assign {office.order_number} to {office.near_name}"
        ).click()
        expect(page.locator("#detail-message")).to_have_text(
            f"{office.order_number} assigned to {office.near_name}."
        )
        row = orders.get_by_role("button", name=f"{office.order_number} · Chiller not cooling")
        expect(row).to_contain_text(office.near_name)
        expect(row).to_contain_text("Assigned")


def test_the_maps_markers_are_reached_and_opened_by_keyboard(
    origin: str, browser: Browser, office: Office
) -> None:
    with visit(browser, "desktop", "en") as seen:
        page = _sign_in(seen, origin, office, ENGLISH)
        on_map = page.locator("#map")
        name = f"{office.order_number} · Chiller not cooling"
        order_marker = on_map.get_by_role("button", name=name, exact=True)
        expect(order_marker).to_have_count(1)
        order_marker.focus()
        expect(page.get_by_role("tooltip", name=name)).to_have_count(1)  # as hovering does
        page.keyboard.press("Tab")  # the next marker is in the Tab order too
        focused = page.evaluate(
            "() => [document.activeElement.closest('#map') !== null,"
            " document.activeElement.getAttribute('role')]"
        )
        assert focused == [True, "button"]
        order_marker.focus()
        page.keyboard.press("Enter")  # as a click: the order opens
        detail = page.locator("#detail")
        expect(detail.get_by_role("heading", level=2)).to_contain_text(office.order_number)

        photo = on_map.get_by_role("button", name=re.compile(office.far_name))
        expect(photo).to_have_count(1)
        photo.focus()
        her_tooltip = page.get_by_role("tooltip").filter(has_text=office.far_name)
        expect(her_tooltip).to_have_count(1)
        page.keyboard.press("Escape")
        expect(her_tooltip).to_have_count(0)  # (a closed tooltip fades out, then goes)
        page.keyboard.press(" ")  # Space opens it again, as a tap does
        expect(her_tooltip).to_have_count(1)
        near = on_map.get_by_role("button", name=re.compile(office.near_name))
        expect(near).to_have_count(1)
        _checked(seen, "console-map-keyboard")


def test_an_order_changed_meanwhile_is_refused_with_a_clear_message(
    origin: str, browser: Browser, office: Office, factories: Factories
) -> None:
    with visit(browser, "desktop", "en") as seen:
        page = _sign_in(seen, origin, office, ENGLISH)
        page.locator("#orders").get_by_role("button").filter(has_text=office.order_number).click()
        first = page.locator("#candidates > li").first
        expect(first).to_contain_text(office.near_name)
        # Someone else edits the order while the dispatcher looks at it.
        factories.transition(office.world, office.order_id, "assign", assignee_id=office.far_id)
        first.get_by_role("button").click()
        expect(page.locator("#detail-message")).to_contain_text("Someone changed this order")
        expect(page.locator("#detail-facts")).to_contain_text("Assigned")


def test_the_phone_console_in_chinese_opens_an_order(
    origin: str, browser: Browser, office: Office
) -> None:
    with visit(browser, "phone", "zh-CN") as seen:
        page = seen.page
        page.goto(f"{origin}/sign-in")
        _checked(seen, "console-sign-in")
        page = _sign_in(seen, origin, office, CHINESE)
        expect(page.locator("#orders").get_by_role("button")).to_have_count(2)
        _checked(seen, "console-board")
        page.locator("#orders").get_by_role("button").filter(has_text=office.order_number).click()
        expect(page.locator("#candidates > li").first).to_contain_text(office.near_name)
        expect(page.locator("#candidates").get_by_role("button").first).to_have_text("派单")
        _checked(seen, "console-order")


@pytest.fixture
def streamed_origin(config: Config, engine: Engine) -> Iterator[str]:
    """The console with the live stream server beside it (on a thread, fed by the relay
    on SQLite and by LISTEN/NOTIFY on PostgreSQL), as ``fieldline serve`` runs them."""
    streams = ThreadedStreams(config, limits=Limits(heartbeat_seconds=3600)).start()
    try:
        with (
            pages_app(config, live_url=f"http://127.0.0.1:{streams.port}/live") as app,
            served(app) as url,
        ):
            yield url
    finally:
        streams.stop()


def test_a_change_made_elsewhere_appears_without_a_reload(
    streamed_origin: str, browser: Browser, office: Office, factories: Factories
) -> None:
    with visit(browser, "desktop", "en") as seen:
        page = _sign_in(seen, streamed_origin, office, ENGLISH)
        root = page.locator("#console")
        expect(root).to_have_attribute("data-live", "live")  # polling has stopped
        row = page.locator("#orders").get_by_role("button").filter(has_text=office.order_number)
        expect(row).to_contain_text("Unassigned")
        row.focus()  # a keyboard user on the row
        factories.transition(office.world, office.order_id, "assign", assignee_id=office.far_id)
        expect(row).to_contain_text(office.far_name, timeout=3000)  # the 10 s poll is off
        expect(row).to_be_focused()  # the redrawn list kept their place

        name = f"{office.order_number} · Chiller not cooling"
        marker = page.locator("#map").get_by_role("button", name=name, exact=True)
        marker.focus()  # on the map, the same: a redraw keeps the focus on the marker
        marker.evaluate("element => { element.dataset.before = 'redraw'; }")
        factories.transition(office.world, office.order_id, "unassign", reason="客户改期")
        expect(row).to_contain_text("Unassigned", timeout=3000)
        redrawn = page.locator("#map").get_by_role("button", name=name, exact=True)
        expect(redrawn).not_to_have_attribute("data-before", "redraw")  # a new element
        expect(redrawn).to_be_focused()
        assert seen.csp_violations == [] and seen.script_errors == []


def test_the_day_plan_is_drawn_on_the_map_and_applied_in_one_action(
    origin: str, browser: Browser, office: Office, uow_factory: UnitOfWorkFactory
) -> None:
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    with uow_factory.reader() as uow:
        tenant = uow.session.get(Tenant, office.world.tenant_id)
        assert tenant is not None and tenant.timezone == "Asia/Shanghai"
    # Whatever the browser's zone (UTC here), the form opens on the office's today.
    its_today = {(utcnow() + timedelta(hours=8, minutes=m)).date().isoformat() for m in (0, 1)}
    with visit(browser, "desktop", "en") as seen:
        page = _sign_in(seen, origin, office, ENGLISH)
        expect(page.locator("#orders").get_by_role("button")).to_have_count(2)
        assert page.get_by_label("Day to plan").input_value() in its_today
        page.get_by_label("Day to plan").fill(tomorrow)
        page.get_by_role("button", name="Plan the day").click()
        expect(page.locator("#plan-summary")).to_contain_text("2 visits", timeout=20_000)
        expect(page.locator("#map path.plan-route")).not_to_have_count(0)
        expect(page.locator("#plan-routes")).to_contain_text(office.order_number)
        _checked(seen, "console-day-plan")
        page.get_by_role("button", name="Apply the plan").click()
        expect(page.locator("#plan-summary")).to_have_text(
            "The plan was applied: 2 orders assigned and scheduled."
        )
        expect(page.locator("#map path.plan-route")).to_have_count(0)
        row = page.locator("#orders").get_by_role("button").filter(has_text=office.order_number)
        expect(row).not_to_contain_text("Unassigned")


def test_a_phones_photo_and_conflict_are_seen_and_resolved_from_the_console(
    origin: str,
    browser: Browser,
    client: ApiClient,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
    config: Config,
) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site, title="Pump noise")
    factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    phone = Device(client.as_(scene.technician_token))
    PhotoJob(client, scene, order.id, phone).attach(camera_jpeg())
    run_worker(uow_factory, config)  # its thumbnail
    receipt = phone.push_ok(
        [phone.mutation(PatchWorkOrder(order.id, {"title": "Leak in the basement"}))]
    ).receipts[0]
    assert receipt.status is Outcome.CONFLICT
    office = Office(scene.world, scene.world.admin.email, "", "", order.number, order.id, order.id)
    with visit(browser, "desktop", "en") as seen:
        page = _sign_in(seen, origin, office, ENGLISH)
        conflicts = page.locator("#conflicts")
        expect(conflicts).to_contain_text(f"{order.number} · {scene.technician.name} · title")
        expect(conflicts).to_contain_text("Device: Leak in the basement")
        expect(page.locator("#devices")).to_contain_text(scene.technician.name)
        _checked(seen, "console-sync")
        conflicts.get_by_role("button", name="Take the device's value").click()
        expect(page.locator("#sync-message")).to_have_text("Resolved.")
        expect(conflicts).to_have_text("No open conflict.")
        row = page.locator("#orders").get_by_role("button").filter(has_text=order.number)
        expect(row).to_contain_text("Leak in the basement")
        row.click()
        thumbnail = page.locator("#photos img")
        expect(thumbnail).to_have_attribute("alt", "Valve")  # its caption
        expect(thumbnail).to_have_js_property("complete", True)
        assert thumbnail.evaluate("image => image.naturalWidth") > 0  # the signed link served it


def test_a_technicians_new_position_reaches_the_map_live(
    streamed_origin: str, browser: Browser, client: ApiClient, factories: Factories, engine: Engine
) -> None:
    tracked = Tracked(client, factories, engine, working_hours=ALWAYS)
    name = tracked.technician.name
    office = Office(
        tracked.world,
        tracked.world.admin.email,
        name,
        "",
        "",
        tracked.technician.id,
        tracked.technician.id,
    )
    with visit(browser, "phone", "en") as seen:
        page = _sign_in(seen, streamed_origin, office, ENGLISH)
        expect(page.locator("#console")).to_have_attribute("data-live", "live")
        technicians = page.locator("#technicians")
        expect(technicians).to_contain_text("No recent position")
        expect(page.locator("#map path.technician-marker")).to_have_count(0)
        tracked.send(fix(0.1, 500))
        expect(page.locator("#map path.technician-marker")).to_have_count(1, timeout=3000)
        expect(technicians).not_to_contain_text("No recent position")
        assert seen.csp_violations == [] and seen.script_errors == []


def test_the_timeline_shows_a_geofenced_arrival_with_the_fixes_behind_it(
    origin: str, browser: Browser, client: ApiClient, factories: Factories, engine: Engine
) -> None:
    tracked = Tracked(client, factories, engine, working_hours=ALWAYS)
    world = tracked.world
    order = factories.work_order(world, title="Boiler pressure low")
    factories.advance(world, order, Status.EN_ROUTE, tracked.technician)
    factories.backdate(order.id, timedelta(minutes=30))
    # Driving in, then parked 40 m from the door for four minutes, a fix every 30 s.
    tracked.send(*[fix(13 - step * 0.5, 2000 - step * 400) for step in range(5)])
    tracked.send(*[fix(10 - step * 0.5, 40) for step in range(9)])
    office = Office(world, world.admin.email, "", "", order.number, order.id, order.id)
    with visit(browser, "desktop", "en") as seen:
        page = _sign_in(seen, origin, office, ENGLISH)
        page.locator("#orders").get_by_role("button").filter(has_text=order.number).click()
        arrival = page.locator("#history > li").filter(has_text="Arrival suggested by the geofence")
        expect(arrival).to_contain_text("5 fixes: first")
        expect(arrival).to_contain_text("(40 m)")
        arrival.scroll_into_view_if_needed()  # the screenshot shows the evidence
        _checked(seen, "console-order-geofence")
