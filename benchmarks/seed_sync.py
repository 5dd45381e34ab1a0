"""Seed data for the sync benchmarks: one technician whose scope holds ~22,600 rows.

Through the real services (so capture writes the change log exactly as in
production): a tenant, a dispatcher, one technician who logs in, 20 customers
with one site each, 2,000 assets (100 per site), and 200 work orders, each
created with 10 of its site's assets and assigned to the technician (every
asset is on exactly one current order).

In bulk SQL: 20,000 **past** orders (closed 30 to 730 days ago, assigned to
nobody), each linked to one asset, 10 per asset. Through the services this
would be 20,000 creates plus 60,000 transitions, each commit re-diffing the
technician's scope (hours, not seconds); the rows are plain history and no
service logic is under test when they are written. They enter the scope as
``asset_history`` rows (PROTOCOL.md § 5.1: the last 20 orders touching each
asset) when :func:`api.sync.capture.prime_tenant` (what ``fieldline
sync-prime`` runs) diffs the scope afterwards. Each asset then has 11 orders
in its history (10 past, 1 current), so the scope holds 20,200
``asset_history`` rows. The seed ends with ``ANALYZE`` (autovacuum is off on
the development cluster; see :func:`benchmarks.bench_work_orders._refresh_statistics`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, insert
from uuid_utils.compat import uuid7

from api.assets import services as asset_services
from api.auth.actor import Actor
from api.auth.permissions import Role
from api.customers import services as customer_services
from api.db import UnitOfWorkFactory, make_engine, utcnow
from api.sites import services as site_services
from api.sync.capture import prime_tenant
from api.technicians import services as technician_services
from api.users import services as user_services
from api.workorders import services as work_order_services
from api.workorders import transitions
from api.workorders.models import WorkOrder, WorkOrderAsset
from api.workorders.states import Priority, Status

TENANT = "syncbench"
TECHNICIAN_EMAIL = "technician@syncbench.test"
PASSWORD = "bench-password-42"
CUSTOMERS = 20
ASSETS_PER_SITE = 100
ORDERS = 200
ASSETS_PER_ORDER = 10
PAST_ORDERS_PER_ASSET = 10
_BULK_CHUNK = 2_000


@dataclass(frozen=True)
class SyncSeeded:
    tenant: str
    tenant_id: uuid.UUID
    email: str
    password: str
    technician_id: uuid.UUID
    user_id: uuid.UUID  # the technician's login
    order_ids: tuple[uuid.UUID, ...]  # the technician's current (assigned) orders
    asset_ids: tuple[uuid.UUID, ...]
    past_orders: int
    past_order_ids: tuple[uuid.UUID, ...]  # a sample of them (in no scope's evidence)
    primed_changes: int  # scope changes prime_tenant wrote

    @property
    def scope(self) -> str:
        return f"technician:{self.technician_id}"


def seed_sync(database_url: str) -> SyncSeeded:
    """Fill a migrated, empty database; see the module docstring for what and how."""
    engine = make_engine(database_url)
    uow = UnitOfWorkFactory(engine)
    try:
        admin, actor = _office(uow)
        technician_id, user_id = _technician(uow, admin)
        places = _places(uow, actor)
        order_ids = _current_orders(uow, actor, places, technician_id)
        asset_ids = tuple(a for _, _, assets in places for a in assets)
        tenant_id = actor.tenant_id
        past = _past_orders(engine, actor.tenant_id, places)
        with uow() as unit:
            primed = prime_tenant(unit.session, actor.tenant_id)
            unit.commit()
        _analyze(engine)
    finally:
        engine.dispose()
    return SyncSeeded(
        tenant=TENANT,
        tenant_id=tenant_id,
        email=TECHNICIAN_EMAIL,
        password=PASSWORD,
        technician_id=technician_id,
        user_id=user_id,
        order_ids=order_ids,
        asset_ids=asset_ids,
        past_orders=len(past),
        past_order_ids=tuple(past[:ORDERS]),
        primed_changes=primed,
    )


def _office(uow: UnitOfWorkFactory) -> tuple[Actor, Actor]:
    """The tenant's admin and a dispatcher (who seeds the customers, assets and orders)."""
    admin = user_services.create_tenant_with_admin(
        uow(),
        slug=TENANT,
        name="同步基准",
        admin_email="admin@syncbench.test",
        admin_password=PASSWORD,
    )
    admin_actor = Actor(tenant_id=admin.tenant_id, role=Role.ADMIN, user_id=admin.id)
    dispatcher = user_services.create_user(
        uow(),
        admin_actor,
        {
            "email": "dispatcher@syncbench.test",
            "name": "调度员",
            "role": Role.DISPATCHER,
            "password": PASSWORD,
        },
    )
    return admin_actor, Actor(
        tenant_id=admin.tenant_id, role=Role.DISPATCHER, user_id=dispatcher.id
    )


def _technician(uow: UnitOfWorkFactory, admin: Actor) -> tuple[uuid.UUID, uuid.UUID]:
    """The technician record and the user who logs in as it."""
    technician = technician_services.create_technician(uow(), admin, {"name": "技师 甲"})
    user = user_services.create_user(
        uow(),
        admin,
        {
            "email": TECHNICIAN_EMAIL,
            "name": "技师 甲",
            "role": Role.TECHNICIAN,
            "password": PASSWORD,
            "technician_id": technician.id,
        },
    )
    return technician.id, user.id


Place = tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]  # customer, site, assets


def _places(uow: UnitOfWorkFactory, actor: Actor) -> list[Place]:
    places: list[Place] = []
    for n in range(CUSTOMERS):
        customer = customer_services.create_customer(uow(), actor, {"name": f"客户 {n}"})
        site = site_services.create_site(
            uow(),
            actor,
            {
                "customer_id": customer.id,
                "name": f"站点 {n}",
                "address": f"上海市浦东新区张江路 {n} 号",
                "position": {"lat": 31.2 + n / 100, "lon": 121.5 + n / 100},
            },
        )
        assets = [
            asset_services.create_asset(
                uow(), actor, {"site_id": site.id, "name": f"空调机组 {n}-{a}"}
            ).id
            for a in range(ASSETS_PER_SITE)
        ]
        places.append((customer.id, site.id, assets))
    return places


def _current_orders(
    uow: UnitOfWorkFactory, actor: Actor, places: list[Place], technician_id: uuid.UUID
) -> tuple[uuid.UUID, ...]:
    """ORDERS orders, each with ASSETS_PER_ORDER assets of its site, assigned to the technician."""
    per_place = ORDERS // len(places)
    order_ids: list[uuid.UUID] = []
    for n in range(ORDERS):
        customer_id, site_id, assets = places[n // per_place]
        first = (n % per_place) * ASSETS_PER_ORDER
        order = work_order_services.create_work_order(
            uow(),
            actor,
            {
                "title": f"工单 {n}: 空调不制冷",
                "description": "客户报告机组运行但不制冷，需检查压缩机与冷媒压力。",
                "customer_id": customer_id,
                "site_id": site_id,
                "asset_ids": assets[first : first + ASSETS_PER_ORDER],
                "priority": Priority.HIGH,
            },
        )
        command: dict[str, Any] = {"action": "assign", "assignee_id": technician_id}
        transitions.transition_work_order(uow(), actor, order.id, command)
        order_ids.append(order.id)
    return tuple(order_ids)


def _past_orders(engine: Engine, tenant_id: uuid.UUID, places: list[Place]) -> list[uuid.UUID]:
    """PAST_ORDERS_PER_ASSET closed orders per asset, in bulk (see the module docstring)."""
    now = utcnow()
    orders: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for customer_id, site_id, assets in places:
        for asset_id in assets:
            for k in range(PAST_ORDERS_PER_ASSET):
                created = now - timedelta(days=730 - 70 * k, hours=len(orders) % 24)
                order_id = uuid7()
                orders.append(
                    {
                        "id": order_id,
                        "tenant_id": tenant_id,
                        "number": f"WO-H{len(orders):06d}",
                        "title": "定期保养：清洗冷凝器、检查冷媒压力",
                        "customer_id": customer_id,
                        "site_id": site_id,
                        "priority": Priority.MEDIUM,
                        "status": Status.CLOSED,
                        "resolution": "清洗冷凝器，补充冷媒 0.5 kg，运行正常",
                        "source": "api",
                        "created_at": created,
                        "updated_at": created + timedelta(days=2),
                        "completed_at": created + timedelta(days=1),
                        "closed_at": created + timedelta(days=2),
                        "field_hlcs": {},
                    }
                )
                links.append(
                    {"tenant_id": tenant_id, "work_order_id": order_id, "asset_id": asset_id}
                )
    with engine.begin() as connection:
        for start in range(0, len(orders), _BULK_CHUNK):
            connection.execute(insert(WorkOrder), orders[start : start + _BULK_CHUNK])
            connection.execute(insert(WorkOrderAsset), links[start : start + _BULK_CHUNK])
    return [order["id"] for order in orders]


def _analyze(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE")
