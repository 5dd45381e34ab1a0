"""The demo tenant: every printed login works, and its data tells a consistent story.

Loading takes about a second, so each test loads it once and checks a lot.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.assets.models import Asset, Symbology
from api.auth.permissions import Role
from api.categories.models import Category
from api.customers.models import Customer, CustomerTier
from api.db import UnitOfWorkFactory, utcnow
from api.demo.accounts import ean13
from api.demo.loader import DEMO_SLUG, load_demo, print_logins
from api.demo.logins import (
    DEMO_LOGINS,
    DEMO_PASSWORD,
    DISPATCHER_EMAIL,
    contact_email,
    technician_email,
)
from api.location.models import CurrentLocation, Position
from api.sites.models import Site
from api.technicians.models import Technician
from api.tenants.models import TenantCounter
from api.tenants.services import get_tenant_by_slug
from api.workorders.models import Note, StatusChange, WorkOrder, WorkOrderAsset
from api.workorders.rules import RULES, Action
from api.workorders.states import Status
from dispatch.shifts import on_shift
from tests.support.api_client import ApiClient, assert_problem

FIELD_ACTIONS = {"accept", "start_travel", "arrive", "start_work", "pause", "resume", "complete"}


def _log_in(client: ApiClient, email: str) -> str:
    response = client.post(
        "/v1/auth/login", json={"tenant": DEMO_SLUG, "email": email, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.get_json()
    token: str = response.get_json()["access_token"]
    return token


def _tenant_id(session: Session) -> uuid.UUID:
    tenant = get_tenant_by_slug(session, DEMO_SLUG)
    assert tenant is not None
    return tenant.id


def _count(session: Session, model: Any, tenant_id: uuid.UUID, *where: Any) -> int:
    stmt = select(func.count()).select_from(model).where(model.tenant_id == tenant_id, *where)
    return session.scalar(stmt) or 0


def test_every_printed_demo_login_works_and_has_its_role(
    client: ApiClient, uow_factory: UnitOfWorkFactory
) -> None:
    assert load_demo(uow_factory, reset=False) is not None
    printed: list[str] = []
    print_logins(printed.append)
    text = "\n".join(printed)
    assert DEMO_SLUG in text and DEMO_PASSWORD in text
    assert {login.role for login in DEMO_LOGINS} == {
        Role.ADMIN,
        Role.DISPATCHER,
        Role.TECHNICIAN,
        Role.CUSTOMER_CONTACT,
    }
    for login in DEMO_LOGINS:
        assert login.email in text and login.role.value in text
        me = client.as_(_log_in(client, login.email)).get("/v1/me").get_json()
        assert me["role"] == login.role.value
        assert (me["technician_id"] is not None) == (login.role is Role.TECHNICIAN)
        assert (me["customer_id"] is not None) == (login.role is Role.CUSTOMER_CONTACT)

    # The contact printed belongs to a VIP customer, which the API shows them.
    contact = client.as_(_log_in(client, contact_email(1)))
    customer_id = contact.get("/v1/me").get_json()["customer_id"]
    assert contact.get(f"/v1/customers/{customer_id}").get_json()["tier"] == "vip"
    admin = client.as_(_log_in(client, DEMO_LOGINS[0].email))
    vips = admin.get("/v1/customers?tier=vip&limit=200").get_json()["items"]
    assert 5 <= len(vips) <= 15

    # The other logins mentioned work too, except the technicians who have left.
    for email in (technician_email(20), contact_email(3)):
        _log_in(client, email)
    gone = client.post(
        "/v1/auth/login",
        json={"tenant": DEMO_SLUG, "email": technician_email(7), "password": DEMO_PASSWORD},
    )
    assert_problem(gone, 401, "auth.invalid_credentials")


def test_demo_data_is_realistic_in_size_and_consistent(uow_factory: UnitOfWorkFactory) -> None:
    load_demo(uow_factory, reset=False)
    with uow_factory() as uow:
        session = uow.session
        tenant_id = _tenant_id(session)
        _check_sizes(session, tenant_id)
        _check_reference_data(session, tenant_id)
        orders = session.scalars(select(WorkOrder).where(WorkOrder.tenant_id == tenant_id)).all()
        _check_numbers(session, tenant_id, orders)
        _check_orders(session, tenant_id, orders)
        _check_histories(session, tenant_id, orders)


def _check_sizes(session: Session, tenant_id: uuid.UUID) -> None:
    assert 15 <= _count(session, Technician, tenant_id) <= 25
    assert _count(session, Technician, tenant_id, Technician.active.is_(False)) == 2
    assert 40 <= _count(session, Customer, tenant_id) <= 60
    assert 5 <= _count(session, Customer, tenant_id, Customer.tier == CustomerTier.VIP) <= 15
    assert 50 <= _count(session, Site, tenant_id) <= 150
    assert 200 <= _count(session, Asset, tenant_id) <= 600
    assert 250 <= _count(session, WorkOrder, tenant_id) <= 350
    assert _count(session, Note, tenant_id, Note.visibility == "customer") > 10
    levels = dict(
        session.execute(
            select(Category.level, func.count())
            .where(Category.tenant_id == tenant_id)
            .group_by(Category.level)
        ).all()
    )
    assert 3 <= levels[1] <= 6 and 2 * levels[1] <= levels[2] and 2 * levels[2] <= levels[3]
    by_status = dict(
        session.execute(
            select(WorkOrder.status, func.count())
            .where(WorkOrder.tenant_id == tenant_id)
            .group_by(WorkOrder.status)
        ).all()
    )
    assert set(by_status) == set(Status), "every status is represented"
    assert by_status[Status.CLOSED] > by_status[Status.CANCELLED]


def _check_reference_data(session: Session, tenant_id: uuid.UUID) -> None:
    sites = {s.id: s for s in session.scalars(select(Site).where(Site.tenant_id == tenant_id))}
    assets = session.scalars(select(Asset).where(Asset.tenant_id == tenant_id)).all()
    per_site: dict[uuid.UUID, int] = defaultdict(int)
    for asset in assets:
        assert asset.customer_id == sites[asset.site_id].customer_id
        per_site[asset.site_id] += 1
        assert asset.barcode_value
        if asset.barcode_symbology is Symbology.EAN_13:
            assert asset.barcode_value == ean13(asset.barcode_value[:12])
        else:
            assert re.fullmatch(r"FL-A-\d{6}", asset.barcode_value)
    assert len({a.barcode_value for a in assets}) == len(assets)
    assert {a.barcode_symbology for a in assets} >= {Symbology.QR, Symbology.CODE_128}
    assert Symbology.EAN_13 in {a.barcode_symbology for a in assets}
    assert all(2 <= n <= 6 for n in per_site.values()) and set(per_site) == set(sites)
    today = utcnow().date()
    assert any(a.warranty_ends_on and a.warranty_ends_on < today for a in assets)
    assert any(a.warranty_ends_on and a.warranty_ends_on > today for a in assets)
    for site in sites.values():  # Shanghai, roughly
        assert site.lat and site.lon and 30.6 < site.lat < 31.9 and 120.8 < site.lon < 122.1
    technicians = session.scalars(select(Technician).where(Technician.tenant_id == tenant_id))
    certificates = [c for t in technicians for c in t.certifications]
    assert any(c["expires_on"] and c["expires_on"] < today.isoformat() for c in certificates)


def _check_numbers(session: Session, tenant_id: uuid.UUID, orders: list[WorkOrder]) -> None:
    numbers = [int(o.number.removeprefix("WO-")) for o in orders]
    assert all(re.fullmatch(r"WO-\d{6}", o.number) for o in orders)
    assert sorted(numbers) == list(range(1, len(orders) + 1))
    counter = session.get(TenantCounter, (tenant_id, "work_order"))
    assert counter is not None and counter.value == max(numbers)
    # Numbers and ids follow creation time, so "newest first" means the same either way.
    by_number = sorted(orders, key=lambda o: o.number)
    assert all(a.created_at <= b.created_at for a, b in itertools.pairwise(by_number))
    assert [o.id for o in by_number] == sorted(o.id for o in orders)


def _check_orders(session: Session, tenant_id: uuid.UUID, orders: list[WorkOrder]) -> None:
    sites = {s.id: s for s in session.scalars(select(Site).where(Site.tenant_id == tenant_id))}
    assets = {a.id: a for a in session.scalars(select(Asset).where(Asset.tenant_id == tenant_id))}
    levels = dict(
        session.execute(select(Category.id, Category.level).where(Category.tenant_id == tenant_id))
        .tuples()
        .all()
    )
    active = set(
        session.scalars(
            select(Technician.id).where(Technician.tenant_id == tenant_id, Technician.active)
        )
    )
    links = session.scalars(select(WorkOrderAsset).where(WorkOrderAsset.tenant_id == tenant_id))
    for link in links:
        order = session.get(WorkOrder, link.work_order_id)
        assert order is not None and assets[link.asset_id].site_id == order.site_id
    now = utcnow()
    for order in orders:
        assert sites[order.site_id].customer_id == order.customer_id
        assert order.category_id is not None and levels[order.category_id] == 3
        assert now - timedelta(days=62) < order.created_at < now
        past_new = order.status not in (Status.NEW, Status.CANCELLED)
        if past_new:
            assert order.assignee_id in active, order.number
        if order.status is Status.NEW:
            assert order.assignee_id is None
        finished = order.status in (Status.COMPLETED, Status.CLOSED)
        assert (order.completed_at is not None) == finished == bool(order.resolution)
        assert (order.closed_at is not None) == (order.status is Status.CLOSED)
        assert (order.cancelled_at is not None) == (order.status is Status.CANCELLED)


def _check_histories(session: Session, tenant_id: uuid.UUID, orders: list[WorkOrder]) -> None:
    rows = session.scalars(
        select(StatusChange)
        .where(StatusChange.tenant_id == tenant_id)
        .order_by(StatusChange.occurred_at, StatusChange.id)
    )
    history: dict[uuid.UUID, list[StatusChange]] = defaultdict(list)
    for row in rows:
        history[row.work_order_id].append(row)
    assignee_users = dict(session.execute(select(Technician.id, Technician.user_id)).all())
    actions_seen: set[str] = set()
    for order in orders:
        steps = history[order.id]
        assert steps[0].action == "create" and steps[0].from_status is None
        assert steps[0].to_status is Status.NEW and steps[0].occurred_at == order.created_at
        assert steps[-1].to_status is order.status, order.number
        for before, after in itertools.pairwise(steps):
            assert after.from_status is before.to_status, order.number
            assert after.occurred_at > before.occurred_at
        for step in steps[1:]:
            rule = RULES[Action(step.action)]
            assert step.from_status in rule.sources and step.to_status is rule.target
            assert step.actor_kind == "user" and step.actor_id is not None
            if step.action in FIELD_ACTIONS:
                assert step.actor_id == assignee_users[order.assignee_id]
            if step.action in ("decline", "pause", "cancel"):
                assert step.reason
            actions_seen.add(step.action)
        stamps = {step.action: step.occurred_at for step in steps}
        assert order.completed_at == stamps.get("complete")
        assert order.closed_at == stamps.get("close")
        assert order.cancelled_at == stamps.get("cancel")
    assert {"decline", "pause", "resume", "close", "cancel"} <= actions_seen


def test_loading_again_is_a_no_op_and_reset_reloads_the_same_demo(
    client: ApiClient, uow_factory: UnitOfWorkFactory
) -> None:
    assert load_demo(uow_factory, reset=False) is not None
    before = _fingerprint(uow_factory)
    admin = client.as_(_log_in(client, DEMO_LOGINS[0].email))
    assert admin.post("/v1/customers", json={"name": "演示后新增客户"}).status_code == 201

    assert load_demo(uow_factory, reset=False) is None
    with uow_factory() as uow:
        assert _tenant_id(uow.session) == before[0]
        assert _count(uow.session, Customer, before[0]) == 51

    summary = load_demo(uow_factory, reset=True)
    assert summary is not None and "work orders" in summary
    after = _fingerprint(uow_factory)
    assert after[0] != before[0], "a new tenant replaces the old one"
    assert after[1:] == before[1:], "the same seed gives the same demo"
    _log_in(client, DEMO_LOGINS[1].email)


def _fingerprint(uow_factory: UnitOfWorkFactory) -> tuple[object, ...]:
    """The tenant id and the time-independent content of the demo."""
    with uow_factory() as uow:
        session = uow.session
        tenant_id = _tenant_id(session)
        # Not numbers: they follow creation times, which are relative to the load time.
        orders = session.execute(
            select(WorkOrder.status, WorkOrder.priority, WorkOrder.title).where(
                WorkOrder.tenant_id == tenant_id
            )
        ).all()
        customers = session.scalars(
            select(Customer.name).where(Customer.tenant_id == tenant_id).order_by(Customer.code)
        ).all()
        return tenant_id, _count(session, Customer, tenant_id), sorted(orders), list(customers)


def test_technicians_on_a_job_have_a_trail_and_a_current_position_in_shanghai(
    uow_factory: UnitOfWorkFactory, client: ApiClient
) -> None:
    load_demo(uow_factory, reset=False)
    with uow_factory() as uow:
        moving = uow.session.execute(
            select(WorkOrder.assignee_id, WorkOrder.status).where(
                WorkOrder.status.in_([Status.EN_ROUTE, Status.ON_SITE, Status.IN_PROGRESS])
            )
        ).all()
        located = set(uow.session.scalars(select(CurrentLocation.technician_id)))
        fixes = uow.session.scalar(select(func.count()).select_from(Position))
    on_a_job = {tech for tech, _ in moving}
    assert on_a_job and on_a_job <= located  # the others are on shift between jobs
    assert fixes >= 90 * len(on_a_job)
    admin = client.as_(_log_in(client, DEMO_LOGINS[0].email))
    tech = sorted(located)[0]
    trail = admin.get(f"/v1/technicians/{tech}/trail", query_string={"tolerance_m": 20}).get_json()
    line = trail["features"][0]
    assert line["properties"]["distance_m"] > 500
    for lon, lat in line["geometry"]["coordinates"]:
        assert 30.6 < lat < 31.9 and 120.8 < lon < 122.2  # Shanghai


def test_at_any_hour_the_dispatcher_finds_technicians_on_shift_near_waiting_orders(
    uow_factory: UnitOfWorkFactory, client: ApiClient
) -> None:
    load_demo(uow_factory, reset=False)
    now = utcnow()
    with uow_factory() as uow:
        tenant_id = _tenant_id(uow.session)
        staff = uow.session.scalars(
            select(Technician).where(Technician.tenant_id == tenant_id, Technician.active)
        ).all()
        working = {t.id for t in staff if on_shift(t.working_hours, t.timezone, now)}
        fresh = {
            row.technician_id: (row.lat, row.lon)
            for row in uow.session.scalars(
                select(CurrentLocation).where(
                    CurrentLocation.tenant_id == tenant_id,
                    CurrentLocation.fixed_at >= now - timedelta(minutes=30),
                )
            )
        }
        waiting = uow.session.execute(
            select(WorkOrder.id, WorkOrder.requested_end).where(
                WorkOrder.tenant_id == tenant_id, WorkOrder.status == Status.NEW
            )
        ).all()
    # The on-call rota covers every hour of the week, and whoever works has a fresh fix.
    assert working and working <= fresh.keys()
    for lat, lon in fresh.values():
        assert 30.6 < lat < 31.9 and 120.8 < lon < 122.2  # Shanghai
    dispatcher = client.as_(_log_in(client, DISPATCHER_EMAIL))
    now_or_never = [order for order, end in waiting if end is None or end <= now]
    assert waiting and now_or_never

    for order_id, _ in waiting:
        response = dispatcher.get(f"/v1/work-orders/{order_id}/candidates")
        assert response.status_code == 200, response.get_json()
        candidates = response.get_json()["candidates"]
        assert candidates, f"nobody for {order_id}"
        if order_id in now_or_never:  # to be done now: by someone working, placed by a fix
            assert {uuid.UUID(c["technician_id"]) for c in candidates} <= working
            assert {c["position"] for c in candidates} == {"fix"}
