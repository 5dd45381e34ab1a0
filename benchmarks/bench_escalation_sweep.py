"""The escalation sweep over 100,000 open orders on PostgreSQL: one index range scan ÷ a full scan.

``python -m benchmarks.bench_escalation_sweep [--orders 100000] [--repeat 5]``

Migrates a throwaway PostgreSQL database and writes one tenant with
``--orders`` open work orders created over the last 48 hours (random status,
priority; 2 % complaints with an amount), four escalation rules like a
tenant's (urgent and not accepted within 4 hours; a complaint over ¥10,000 at
once; 24 hours en route; 75 % of a 72-hour target), and each order's next check
in ``escalation_checks`` as the server keeps it (planned by the same pure rules),
in the steady state of a sweep every 30 seconds: what was due by then has fired
(``work_order_escalations``) and the orders wait for their next rule.
Then, in the same run and on the same data:

- indexed: what the worker's sweep runs to find the due orders
  (:func:`api.servicedesk.escalation_sweep.due_checks`: ``due_at <= now`` on
  ``ix_escalation_checks_due``, ``FOR UPDATE SKIP LOCKED``), all of them in one go;
- full scan: every open order and what fired read, and every rule evaluated in
  Python (the obvious sweep without the index; generous: two queries, no ORM).

The same again for a backlog: the orders due within the next hour (as if every
worker had been down for an hour). Both must find the same orders, or the run
fails. Prints ONE JSON line.
Target: the indexed sweep finds them in < 2 s (it takes milliseconds).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from api.customers.models import Customer
from api.db import make_engine, utcnow
from api.db.bulk import insert_rows, with_defaults
from api.migrations import upgrade
from api.servicedesk.calendar import from_epoch, to_epoch
from api.servicedesk.clocks import ROUND_THE_CLOCK
from api.servicedesk.escalation_models import Escalation, EscalationCheck, EscalationRule
from api.servicedesk.escalation_rules import Rule, Timing, plan
from api.servicedesk.escalation_sweep import due_checks
from api.servicedesk.sla import Clock
from api.sites.models import Site
from api.tenants.models import Tenant
from api.workorders.models import WorkOrder
from tests.support.postgres import create_database, drop_database

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
OPEN = ("new", "assigned", "accepted", "en_route", "on_site", "in_progress")
PRIORITIES = ("low", "medium", "high", "urgent")
RULES = (
    {
        "name": "紧急未接单",
        "level": 1,
        "trigger": "created",
        "minutes": 240,
        "action": "notify_supervisor",
        "logic": {
            "and": [
                {"==": [{"var": "priority"}, "urgent"]},
                {"in": [{"var": "status"}, ["new", "assigned"]]},
            ]
        },
    },
    {
        "name": "大额投诉",
        "level": 2,
        "trigger": "created",
        "minutes": 0,
        "action": "notify_managers",
        "logic": {"and": [{"var": "complaint"}, {">": [{"var": "amount"}, 10000]}]},
    },
    {
        "name": "在途超一天",
        "level": 1,
        "trigger": "status",
        "minutes": 1440,
        "action": "notify_assignee",
        "logic": {"==": [{"var": "status"}, "en_route"]},
    },
    {
        "name": "72 小时 75%",
        "level": 1,
        "trigger": "created",
        "minutes": 3240,
        "action": "notify_managers",
        "logic": {},
    },
)
CHUNK = 10_000
SWEEP_EVERY = timedelta(seconds=30)  # FIELDLINE_ESCALATION_SWEEP_SECONDS
BACKLOG_S = 3600


def _seed(engine: Engine, count: int, rng: random.Random, now: datetime) -> list[Rule]:
    with Session(engine) as session:
        tenant = Tenant(slug="bench", name="压测租户")
        session.add(tenant)
        session.flush()
        customer = Customer(tenant_id=tenant.id, name="客户")
        session.add(customer)
        session.flush()
        site = Site(tenant_id=tenant.id, customer_id=customer.id, name="站点", address="上海")
        session.add(site)
        session.flush()
        rows = [EscalationRule(tenant_id=tenant.id, **r) for r in RULES]
        session.add_all(rows)
        session.commit()
        tenant_id, customer_id, site_id = tenant.id, customer.id, site.id
        rules = [_rule(r) for r in rows]
    wall, previous = Clock(ROUND_THE_CLOCK), to_epoch(now - SWEEP_EVERY)
    with engine.begin() as connection:
        for start in range(0, count, CHUNK):
            orders, checks, fired = [], [], []
            for n in range(start, min(count, start + CHUNK)):
                order = _order(rng, now, n)
                orders.append(
                    with_defaults(
                        WorkOrder,
                        order
                        | {"tenant_id": tenant_id, "customer_id": customer_id, "site_id": site_id},
                    )
                )
                planned = plan(rules, _facts(order), [], _timing(order, wall), [])
                # The previous sweep (SWEEP_EVERY ago) fired what was due then.
                fired += [_fired(tenant_id, order, r, at) for r, at in planned if at <= previous]
                later = [at for _, at in planned if at > previous]
                if later:
                    checks.append(
                        {"tenant_id": tenant_id, "work_order_id": order["id"],
                         "due_at": from_epoch(later[0])}
                    )  # fmt: skip
            insert_rows(connection, WorkOrder, orders)
            insert_rows(connection, EscalationCheck, checks)
            insert_rows(connection, Escalation, fired)
        connection.execute(text("ANALYZE work_orders"))
        connection.execute(text("ANALYZE escalation_checks"))
    return rules


def _fired(tenant_id: uuid.UUID, order: dict[str, Any], rule: Rule, at: int) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(), "tenant_id": tenant_id, "work_order_id": order["id"],
        "rule_id": rule.id, "rule_name": rule.name, "level": rule.level, "action": rule.action,
        "due_at": from_epoch(at), "fired_at": from_epoch(at), "recipients": [],
        "priority_before": None, "priority_after": None,
    }  # fmt: skip


def _order(rng: random.Random, now: datetime, n: int) -> dict[str, Any]:
    created = now - timedelta(seconds=rng.uniform(0, 48 * 3600))
    complaint = rng.random() < 0.02
    return {
        "id": uuid.uuid4(),
        "number": f"WO-{n:07d}",
        "title": f"报修 {n}",
        "status": rng.choice(OPEN),
        "priority": rng.choice(PRIORITIES),
        "complaint": complaint,
        "amount": Decimal(rng.randint(100, 30000)) if complaint else None,
        "created_at": created,
        "updated_at": created,
    }


def _rule(row: EscalationRule) -> Rule:
    return Rule(
        id=row.id, name=row.name, level=row.level, logic=row.logic, trigger=row.trigger,
        action=row.action, minutes=row.minutes,
    )  # fmt: skip


def _facts(order: dict[str, Any]) -> dict[str, Any]:
    amount = order["amount"]
    return {
        "priority": str(order["priority"]),
        "status": str(order["status"]),
        "complaint": order["complaint"],
        "amount": None if amount is None else float(amount),
    }


def _timing(order: dict[str, Any], wall: Clock) -> Timing:
    # Status since creation: the benchmark's orders reached their status when made.
    created = to_epoch(order["created_at"])
    return Timing(created=created, status_since=created, pauses=(), wall=wall, business=wall)


def _full_scan(engine: Engine, rules: list[Rule], now: datetime) -> tuple[set[Any], set[Any]]:
    """The orders due now, and those due within the next hour (a backlog: workers down)."""
    wall, due, backlog, cutoff = Clock(ROUND_THE_CLOCK), set(), set(), to_epoch(now)
    with engine.connect() as connection:
        fired: dict[uuid.UUID, list[tuple[Any, int]]] = {}
        for order_id, rule_id, level in connection.execute(
            select(Escalation.work_order_id, Escalation.rule_id, Escalation.level)
        ):
            fired.setdefault(order_id, []).append((rule_id, level))
        rows = connection.execute(
            select(
                WorkOrder.id, WorkOrder.status, WorkOrder.priority, WorkOrder.complaint,
                WorkOrder.amount, WorkOrder.created_at,
            ).where(WorkOrder.status.in_(OPEN))
        ).all()  # fmt: skip
        for row in rows:
            order = row._asdict()
            done = fired.get(row.id, [])
            planned = plan(rules, _facts(order), [], _timing(order, wall), done)
            if planned and planned[0][1] <= cutoff:
                due.add(row.id)
            if planned and planned[0][1] <= cutoff + BACKLOG_S:
                backlog.add(row.id)
    return due, backlog


def _indexed(engine: Engine, now: datetime, limit: int) -> set[uuid.UUID]:
    with Session(engine) as session:
        found = {check.work_order_id for check in due_checks(session, now, limit)}
        session.rollback()  # releases the row locks; the benchmark changes nothing
    return found


def _uses_index(engine: Engine, now: datetime) -> bool:
    with engine.connect() as connection:
        plan_text = connection.execute(
            text("EXPLAIN SELECT * FROM escalation_checks WHERE due_at <= :now ORDER BY due_at"),
            {"now": now},
        ).all()
    return any("ix_escalation_checks_due" in line[0] for line in plan_text)


def _run(url: str, count: int, repeat: int) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        rng = random.Random(14)
        now = utcnow()
        t0 = time.perf_counter()
        rules = _seed(engine, count, rng, now)
        seed_s = time.perf_counter() - t0
        indexed_times, backlog_times, scan_times = [], [], []
        indexed: set[Any] = set()
        backlog: set[Any] = set()
        scanned: tuple[set[Any], set[Any]] = (set(), set())
        later = now + timedelta(seconds=BACKLOG_S)
        for _ in range(repeat):
            t0 = time.perf_counter()
            indexed = _indexed(engine, now, count)
            indexed_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            backlog = _indexed(engine, later, count)
            backlog_times.append(time.perf_counter() - t0)
        for _ in range(max(1, repeat // 2)):
            t0 = time.perf_counter()
            scanned = _full_scan(engine, rules, now)
            scan_times.append(time.perf_counter() - t0)
        if (indexed, backlog) != scanned:
            raise SystemExit(
                f"indexed sweep found {len(indexed)}/{len(backlog)} orders, "
                f"full scan {len(scanned[0])}/{len(scanned[1])}"
            )
        sweep_s, scan_s = statistics.median(indexed_times), statistics.median(scan_times)
        return {
            "open_orders": count,
            "due": len(indexed),
            "sweep_ms": round(sweep_s * 1000, 1),
            "full_scan_ms": round(scan_s * 1000, 1),
            "speedup": round(scan_s / sweep_s, 1),
            "backlog_1h_due": len(backlog),
            "backlog_1h_sweep_ms": round(statistics.median(backlog_times) * 1000, 1),
            "index_used": _uses_index(engine, now),
            "seed_s": round(seed_s, 1),
            "target_met": sweep_s < 2.0,
        }
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    name = f"fieldline_bench_{uuid.uuid4().hex[:8]}"
    url = create_database(PG_ADMIN, name)
    try:
        result = {
            "benchmark": "escalation_sweep",
            "postgresql": _run(url, args.orders, args.repeat),
        }
    finally:
        drop_database(PG_ADMIN, name)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
