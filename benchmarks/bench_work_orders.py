"""Work order read benchmarks: the seed data and the requests that are timed.

The seed goes through the real services (the same code the API runs), as a
dispatcher: a handful of customers with a site and assets each, technicians,
a three-level category path, and 500 work orders driven by real transitions
into every status. :data:`STATUS_MIX` puts 140 orders in ``assigned`` or
``accepted``, so the list benchmark always gets a full page of 50.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from api.assets import services as asset_services
from api.auth.actor import Actor
from api.auth.permissions import Role
from api.categories import services as category_services
from api.customers import services as customer_services
from api.db import UnitOfWorkFactory, make_engine
from api.sites import services as site_services
from api.technicians import services as technician_services
from api.users import services as user_services
from api.workorders import services as work_order_services
from api.workorders import transitions
from api.workorders.states import Priority

TENANT = "bench"
DISPATCHER_EMAIL = "dispatcher@bench.test"
PASSWORD = "bench-password-42"
LIST_FILTER = "status=assigned,accepted&limit=50"
NAMES = ("app_floor", "db_ping", "auth_me", "work_order_read", "work_order_list", "console_list")

# How many orders end in each status (500 in all).
STATUS_MIX: dict[str, int] = {
    "new": 60,
    "assigned": 80,
    "accepted": 60,
    "en_route": 40,
    "on_site": 40,
    "in_progress": 50,
    "paused": 20,
    "completed": 50,
    "closed": 80,
    "cancelled": 20,
}

# The actions that take a new order to each status (the dispatcher may take them all).
_ROUTE = ["assign", "accept", "start_travel", "arrive", "start_work"]
PATHS: dict[str, list[str]] = {
    "new": [],
    "assigned": _ROUTE[:1],
    "accepted": _ROUTE[:2],
    "en_route": _ROUTE[:3],
    "on_site": _ROUTE[:4],
    "in_progress": _ROUTE,
    "paused": [*_ROUTE, "pause"],
    "completed": [*_ROUTE, "complete"],
    "closed": [*_ROUTE, "complete", "close"],
    "cancelled": ["cancel"],
}
_EXTRA = {"pause": {"reason": "等待备件"}, "cancel": {"reason": "客户取消"}}


@dataclass(frozen=True)
class Seeded:
    tenant: str
    email: str
    password: str
    read_id: str  # an in-progress order with assets and a category: the full read


@dataclass(frozen=True)
class Benchmark:
    name: str
    path: str
    description: str
    target_ratio: float | None
    check: Callable[[Any], None]


def benchmarks(seeded: Seeded) -> list[Benchmark]:
    """The timed requests, cheapest first.

    ``app_floor``, ``db_ping`` and ``auth_me`` are floors, not features: what the
    Fieldline stack with no database, one pooled database round trip, and an
    authenticated request with one query cost on this machine. They show how much
    of a work order read is the stack itself.
    """

    def check_ping(body: Any) -> None:
        assert body == {"status": "ready", "database": "ok"}, body

    def check_me(body: Any) -> None:
        assert body["email"] == seeded.email, body

    def check_read(body: Any) -> None:
        assert body["id"] == seeded.read_id and len(body["category"]["path"]) == 3, body

    def check_list(body: Any) -> None:
        statuses = {item["status"] for item in body["items"]}
        assert len(body["items"]) == 50 and statuses <= {"assigned", "accepted"}, statuses

    def check_board(body: Any) -> None:
        items = body["items"]
        assert len(items) == 50 and all(item["site"]["lat"] is not None for item in items), body

    def check_health(body: Any) -> None:
        assert body == {"status": "ok"}, body

    timed = [
        Benchmark(
            "app_floor",
            "/healthz",
            "GET /healthz: the Fieldline stack (envelope, hooks, routing), no database",
            None,
            check_health,
        ),
        Benchmark(
            "db_ping", "/readyz", "GET /readyz: one pooled SELECT 1, no auth", None, check_ping
        ),
        Benchmark("auth_me", "/v1/me", "GET /v1/me: token check plus one query", None, check_me),
        Benchmark(
            "work_order_read",
            f"/v1/work-orders/{seeded.read_id}",
            "GET one work order as a dispatcher (auth, scoped read, category path, ETag)",
            0.40,
            check_read,
        ),
        Benchmark(
            "work_order_list",
            f"/v1/work-orders?{LIST_FILTER}",
            "GET a page of 50 assigned/accepted work orders, newest first",
            None,
            check_list,
        ),
        Benchmark(
            "console_list",
            "/v1/board/work-orders?limit=50",
            "GET the console's page of 50 open orders (site, customer, assignee, SLA state)",
            0.15,
            check_board,
        ),
    ]
    assert tuple(b.name for b in timed) == NAMES  # what --only accepts
    return timed


def seed(database_url: str, orders: int = sum(STATUS_MIX.values())) -> Seeded:
    """Fill a migrated, empty database; returns what the benchmarks need."""
    engine = make_engine(database_url)
    uow = UnitOfWorkFactory(engine)
    try:
        admin = user_services.create_tenant_with_admin(
            uow(),
            slug=TENANT,
            name="基准测试",
            admin_email="admin@bench.test",
            admin_password=PASSWORD,
        )
        admin_actor = Actor(tenant_id=admin.tenant_id, role=Role.ADMIN, user_id=admin.id)
        dispatcher = user_services.create_user(
            uow(),
            admin_actor,
            {
                "email": DISPATCHER_EMAIL,
                "name": "调度员",
                "role": Role.DISPATCHER,
                "password": PASSWORD,
            },
        )
        actor = Actor(tenant_id=admin.tenant_id, role=Role.DISPATCHER, user_id=dispatcher.id)
        places = _places(uow, actor)
        technicians = [
            technician_services.create_technician(uow(), actor, {"name": f"技师 {n}"}).id
            for n in range(5)
        ]
        leaf = _category_path(uow, actor)
        read_id = _work_orders(uow, actor, places, technicians, leaf, orders)
        _refresh_statistics(engine)
    finally:
        engine.dispose()
    return Seeded(TENANT, DISPATCHER_EMAIL, PASSWORD, str(read_id))


def _refresh_statistics(engine: Engine) -> None:
    """ANALYZE the seeded tables, as autovacuum does on any real server within a minute.

    The development cluster runs with autovacuum off, so without this the planner
    guesses at the fresh tables: the single read then scanned all 500 orders of
    the tenant through the tenant index instead of using the primary key, which
    measured PostgreSQL's guesswork rather than the application.
    """
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE")


def _places(
    uow: UnitOfWorkFactory, actor: Actor
) -> list[tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]]:
    """(customer, site, assets) for five customers."""
    places = []
    for n in range(5):
        customer = customer_services.create_customer(uow(), actor, {"name": f"客户 {n}"})
        site = site_services.create_site(
            uow(),
            actor,
            {
                "customer_id": customer.id,
                "name": f"站点 {n}",
                "address": f"上海市浦东新区 {n} 号",
                "position": {"lat": 31.2 + n / 100, "lon": 121.5 + n / 100},
            },
        )
        assets = [
            asset_services.create_asset(
                uow(), actor, {"site_id": site.id, "name": f"空调机组 {n}-{a}"}
            ).id
            for a in range(2)
        ]
        places.append((customer.id, site.id, assets))
    return places


def _category_path(uow: UnitOfWorkFactory, actor: Actor) -> uuid.UUID:
    parent_id = None
    for level, (name, name_en) in enumerate(
        [("暖通空调", "HVAC"), ("中央空调", "Central air"), ("不制冷", "Not cooling")], start=1
    ):
        data: dict[str, Any] = {"code": f"L{level}", "name": name, "name_en": name_en}
        if parent_id:
            data["parent_id"] = parent_id
        parent_id = category_services.create_category(uow(), actor, data).id
    assert parent_id is not None
    return parent_id


def _statuses(orders: int) -> Iterator[str]:
    """The mix, shuffled with a fixed seed, so each status is spread over the id range
    (the list walks ids newest first) and every run seeds the same data."""
    pool = [status for status, count in STATUS_MIX.items() for _ in range(count)]
    random.Random(20261125).shuffle(pool)
    return itertools.islice(itertools.cycle(pool), orders)


def _work_orders(
    uow: UnitOfWorkFactory,
    actor: Actor,
    places: list[tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]],
    technicians: list[uuid.UUID],
    category_id: uuid.UUID,
    orders: int,
) -> uuid.UUID:
    read_id: uuid.UUID | None = None
    for n, status in enumerate(_statuses(orders)):
        customer_id, site_id, assets = places[n % len(places)]
        order = work_order_services.create_work_order(
            uow(),
            actor,
            {
                "title": f"工单 {n}: 空调不制冷",
                "customer_id": customer_id,
                "site_id": site_id,
                "asset_ids": assets,
                "category_id": category_id,
                "priority": Priority.HIGH,
            },
        )
        for action in PATHS[status]:
            command: dict[str, Any] = {"action": action, **_EXTRA.get(action, {})}
            if action == "assign":
                command["assignee_id"] = technicians[n % len(technicians)]
            if action == "complete":
                command["resolution"] = "更换电容"
            transitions.transition_work_order(uow(), actor, order.id, command)
        if status == "in_progress":
            read_id = order.id
    assert read_id is not None
    return read_id
