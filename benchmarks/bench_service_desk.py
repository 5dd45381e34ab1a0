"""Service desk reads added with duplicates and KPIs, each beside a baseline of the same run.

``python -m benchmarks.bench_service_desk [--orders 20000] [--backend both]``

Per backend (SQLite file; throwaway PostgreSQL database), migrates a fresh
schema and writes one tenant with ``--orders`` orders over the last 30 days
(core INSERTs, not the services: the seed is not what is measured): status
histories (created, assigned, accepted, arrived, completed; one in ten
paused for the customer, some reopened, some cancelled), SLA rows with due
times and marks, a default business calendar (Shanghai, 09:00-18:00 weekdays,
CN holidays), escalations, ratings,
and open duplicate suggestions on one order in ten. Then, one JSON line:

- ``kpis``: ``GET /v1/service-desk/kpis``'s query over the whole month (every
  figure, business time included), beside ``SELECT count(*)`` of the same
  filtered orders (the floor of any aggregate over them): ms each and ratio.
- ``read``: the single work order read with its duplicate flags
  (``possible_duplicates``, ``merged_into_id``: two scalar subqueries) beside
  the same statement without them, on random orders: µs per read and ratio.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, func, insert, select

from api.auth.actor import Actor
from api.auth.permissions import Role
from api.db import make_engine, new_id, utcnow
from api.duplicates.models import DuplicateSuggestion
from api.migrations import upgrade
from api.servicedesk.escalation_models import Escalation
from api.servicedesk.kpi_queries import KpiFilter, _scoped, service_desk_kpis
from api.servicedesk.models import BusinessCalendar, WorkOrderSla
from api.tracking.models import WorkOrderRating
from api.workorders import queries as order_queries
from api.workorders.models import StatusChange, WorkOrder
from tests.support.factories import Factories
from tests.support.postgres import create_database, drop_database

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
NINE_TO_SIX = [[540, 720], [780, 1080]]


def _seed(engine: Engine, count: int, rng: random.Random) -> tuple[Actor, list[uuid.UUID]]:
    from api.db import UnitOfWorkFactory

    factories = Factories(UnitOfWorkFactory(engine))
    world = factories.tenant()
    customer = factories.customer(world)
    site = factories.site(world, customer)
    tenant = world.tenant_id
    now = utcnow()
    orders, steps, slas, escalations, ratings, suggestions = [], [], [], [], [], []
    with engine.begin() as connection:
        calendar_id = new_id()
        connection.execute(
            insert(BusinessCalendar),
            [{"id": calendar_id, "tenant_id": tenant, "name": "默认", "team_id": None,
              "time_zone": "Asia/Shanghai", "weekly_hours": {str(d): NINE_TO_SIX for d in range(5)},
              "holiday_country": "CN", "makeup_hours": None, "version": 1,
              "created_at": now, "updated_at": now}],
        )  # fmt: skip
    for n in range(count):
        order_id = new_id()
        created = now - timedelta(seconds=rng.randrange(30 * 86400))
        fate = rng.random()
        status = "cancelled" if fate < 0.05 else "new" if fate < 0.2 else "completed"
        completed = None
        steps.append(_step(tenant, order_id, "create", None, "new", created))
        if status == "completed":
            at = created + timedelta(seconds=rng.randrange(60, 8 * 3600))
            steps.append(_step(tenant, order_id, "assign", "new", "assigned", at))
            for action, before, after in (("accept", "assigned", "accepted"),
                                          ("arrive", "en_route", "on_site")):  # fmt: skip
                at += timedelta(seconds=rng.randrange(60, 4 * 3600))
                steps.append(_step(tenant, order_id, action, before, after, at))
            if rng.random() < 0.1:  # waited for the customer: the SLA clocks stood still
                steps.append(_step(tenant, order_id, "pause", "in_progress", "paused", at))
                at += timedelta(seconds=rng.randrange(600, 8 * 3600))
                steps.append(_step(tenant, order_id, "resume", "paused", "in_progress", at))
            if rng.random() < 0.1:
                steps.append(_step(tenant, order_id, "reopen", "completed", "new", at))
            completed = min(now, at + timedelta(seconds=rng.randrange(600, 8 * 3600)))
            steps.append(_step(tenant, order_id, "complete", "in_progress", "completed", completed))
            if rng.random() < 0.5:
                ratings.append({"id": new_id(), "tenant_id": tenant, "work_order_id": order_id,
                                "score": rng.randint(1, 5), "rated_at": completed})  # fmt: skip
        if status == "cancelled":
            steps.append(_step(tenant, order_id, "cancel", "new", "cancelled", created))
        orders.append(
            {"id": order_id, "tenant_id": tenant, "number": f"WO-{n:07d}", "title": "空调不制冷",
             "customer_id": customer.id, "site_id": site.id, "priority": "medium",
             "status": status, "source": "api", "created_at": created, "updated_at": created,
             "completed_at": completed, "version": 1, "field_hlcs": {}}
        )  # fmt: skip
        slas.append(
            {"work_order_id": order_id, "tenant_id": tenant, "state": "running",
             "first_response_due_at": created + timedelta(hours=4),
             "arrival_due_at": created + timedelta(hours=8),
             "resolution_due_at": created + timedelta(hours=24), "computed_at": created,
             "first_response_met_at": None, "first_response_breached": None,
             "arrival_met_at": None, "arrival_breached": None}
        )  # fmt: skip
        if rng.random() < 0.1:
            escalations.append(
                {"id": new_id(), "tenant_id": tenant, "work_order_id": order_id,
                 "rule_name": "超时", "level": 1, "action": "notify_managers",
                 "due_at": created, "fired_at": created, "recipients": []}
            )  # fmt: skip
        if n and rng.random() < 0.1:
            suggestions.append(
                {"id": new_id(), "tenant_id": tenant, "work_order_id": order_id,
                 "candidate_id": orders[n - 1]["id"], "score": 80, "reasons": ["same_site"],
                 "state": "open", "created_at": created}
            )  # fmt: skip
    with engine.begin() as connection:
        for table, rows in ((WorkOrder, orders), (StatusChange, steps), (WorkOrderSla, slas),
                            (Escalation, escalations), (WorkOrderRating, ratings),
                            (DuplicateSuggestion, suggestions)):  # fmt: skip
            for start in range(0, len(rows), 2000):
                connection.execute(insert(table), rows[start : start + 2000])
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE")
    actor = Actor(tenant_id=tenant, role=Role.DISPATCHER, user_id=world.admin.id)
    return actor, [o["id"] for o in orders]


def _step(tenant: uuid.UUID, order_id: uuid.UUID, action: str, before: str | None, after: str,
          at: datetime) -> dict[str, Any]:  # fmt: skip
    return {"id": new_id(), "tenant_id": tenant, "work_order_id": order_id, "action": action,
            "from_status": before, "to_status": after, "actor_kind": "user", "actor_id": None,
            "occurred_at": at, "recorded_at": at}  # fmt: skip


def _ms(run: Any, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        run()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def _measure(engine: Engine, orders: int, rng: random.Random) -> dict[str, Any]:
    from sqlalchemy.orm import Session

    actor, ids = _seed(engine, orders, rng)
    now = utcnow()
    where = KpiFilter(start=now - timedelta(days=31), end=now + timedelta(minutes=1))
    with Session(engine) as session:
        result = service_desk_kpis(session, actor, where)
        assert result["orders"] > 0 and result["resolution"]["business"]["count"] > 0
        kpi_ms = _ms(lambda: service_desk_kpis(session, actor, where), 5)
        count = select(func.count()).select_from(_scoped(actor, where, cancelled=False).subquery())
        floor_ms = _ms(lambda: session.execute(count).scalar(), 5)
    plain = (
        select(*order_queries._SHOWN_COLUMNS, *order_queries._PATH_COLUMNS)
        .select_from(order_queries._WITH_CATEGORY)
        .where(order_queries._ORDERS.c.id == bindparam("id"))
    )
    flagged = (
        select(*order_queries._SHOWN_COLUMNS, *order_queries._FLAG_COLUMNS,
               *order_queries._PATH_COLUMNS)
        .select_from(order_queries._WITH_CATEGORY)
        .where(order_queries._ORDERS.c.id == bindparam("id"))
    )  # fmt: skip
    sample = [rng.choice(ids) for _ in range(2000)]
    with engine.connect() as connection:
        timings = {}
        for _ in range(2):  # alternate, the second pass counts
            for name, stmt in (("plain", plain), ("flagged", flagged)):
                began = time.perf_counter()
                for order_id in sample:
                    connection.execute(stmt, {"id": order_id}).one()
                timings[name] = (time.perf_counter() - began) / len(sample) * 1e6
    return {
        "kpis_ms": round(kpi_ms, 1),
        "count_floor_ms": round(floor_ms, 2),
        "kpis_ratio": round(kpi_ms / floor_ms, 1),
        "read_flagged_us": round(timings["flagged"], 1),
        "read_plain_us": round(timings["plain"], 1),
        "read_ratio": round(timings["flagged"] / timings["plain"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    out: dict[str, Any] = {"benchmark": "service_desk", "orders": args.orders}
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
            upgrade(engine)
            out["sqlite"] = _measure(engine, args.orders, random.Random(14))
            engine.dispose()
    if args.backend in ("postgresql", "both"):
        name = f"fieldline_bench_{uuid.uuid4().hex[:8]}"
        url = create_database(PG_ADMIN, name)
        try:
            engine = make_engine(url)
            upgrade(engine)
            out["postgresql"] = _measure(engine, args.orders, random.Random(14))
            engine.dispose()
        finally:
            drop_database(PG_ADMIN, name)
    out["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
