"""The quiet pull's statement keeps a good generic plan on PostgreSQL.

psycopg prepares a statement after five executions, and PostgreSQL then plans it
once, generically, if that plan looks no worse than the custom ones. The quiet
pull runs on every device's "anything new?" poll, so its generic plan must find
a scope's latest change with one probe of the scope index. With the limit bound as
a parameter, and with one scope holding most of the log (a small tenant with one
busy technician), PostgreSQL chose to walk the primary key backwards filtering
on the scope, a scan of the whole log for a scope with no changes; it then went
back to planning the statement on every execution, which cost three times
running it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from psycopg import sql as psql
from sqlalchemy import Engine, Integer, String, Uuid, bindparam, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from api.sync import checkpoints, noop, queries
from api.sync.models import SyncScopeChange, SyncScopeMember
from tests.conftest import backend
from tests.support.factories import Factories

pytestmark = pytest.mark.skipif(backend() != "postgresql", reason="PostgreSQL's planner")

BUSY_CHANGES = 20_000


@dataclass(frozen=True)
class Prepared:
    generic_plan: str  # EXPLAIN ANALYZE of the generic plan, run with the values
    custom_plan: str  # and of the plan made for the values (the first five executions')
    generic_plans: int  # how PostgreSQL planned ten executions in its default mode
    custom_plans: int


def _prepare(engine: Engine, statement: Any, values: dict[str, Any]) -> Prepared:
    """The statement PREPAREd as psycopg would, executed ten times, and its generic plan."""
    compiled = statement.compile(
        dialect=engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    names: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    sql = re.sub(r"%\((\w+)\)s", placeholder, compiled.string)
    types = [_sql_type(compiled.binds[n].type) for n in names]
    merged = {**compiled.params, **values}
    # EXECUTE takes no bound parameters: its arguments are SQL literals.
    arguments = psql.SQL(", ").join(psql.Literal(merged[name]) for name in names)
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.execute(f"PREPARE probe ({', '.join(types)}) AS {sql}")
        for _ in range(10):
            driver.execute(psql.SQL("EXECUTE probe ({})").format(arguments)).fetchall()
        row = driver.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'probe'"
        ).fetchone()
        assert row is not None
        explain = psql.SQL("EXPLAIN (ANALYZE, COSTS OFF) EXECUTE probe ({})").format(arguments)
        plans = []
        for mode in ("force_generic_plan", "force_custom_plan"):
            driver.execute(f"SET plan_cache_mode = {mode}")
            plans.append("\n".join(line for (line,) in driver.execute(explain).fetchall()))
        driver.execute("DEALLOCATE probe")
        driver.execute("RESET plan_cache_mode")
    return Prepared(*plans, generic_plans=row[0], custom_plans=row[1])


def _sql_type(kind: Any) -> str:
    if isinstance(kind, ARRAY):
        return _sql_type(kind.item_type) + "[]"
    kinds = {Uuid: "uuid", String: "text", Integer: "bigint"}
    return next(name for known, name in kinds.items() if isinstance(kind, known))


@pytest.fixture
def busy_log(engine: Engine, factories: Factories) -> tuple[uuid.UUID, str]:
    """A tenant whose change log is all one technician's scope (which holds every row
    changed), analyzed."""
    scene = factories.scene()
    tenant_id = scene.world.tenant_id
    busy = f"technician:{scene.technician.id}"
    rows = [uuid.uuid4() for _ in range(BUSY_CHANGES)]
    with engine.begin() as connection:
        connection.execute(
            insert(SyncScopeChange),
            [
                {
                    "tenant_id": tenant_id,
                    "change_seq": 1_000_000 + n,
                    "scope": busy,
                    "table_name": "work_orders",
                    "row_id": row_id,
                    "op": "upsert",
                }
                for n, row_id in enumerate(rows)
            ],
        )
        connection.execute(
            insert(SyncScopeMember),
            [
                {"tenant_id": tenant_id, "scope": busy, "table_name": "work_orders", "row_id": r}
                for r in rows
            ],
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE sync_scope_changes, sync_scope_members"))
    return tenant_id, busy


def test_the_quiet_pull_probes_each_scope_through_its_index_in_a_generic_plan(
    engine: Engine, busy_log: tuple[uuid.UUID, str]
) -> None:
    tenant_id, busy = busy_log
    prepared = _prepare(
        engine,
        noop._statement(2),
        {
            "tenant": tenant_id,
            "session": uuid.uuid4(),
            "device": uuid.uuid4(),
            "scope_0": "taxonomy",  # no change at all: the walk would read all 20,000
            "scope_1": busy,
        },
    )
    plan = prepared.generic_plan
    assert "pk_sync_scope_changes" not in plan, plan
    assert plan.count("ix_sync_scope_changes_scope_seq") == 2, plan
    assert "Rows Removed by Filter" not in plan, plan
    # PostgreSQL tries five custom plans, then keeps the generic one.
    assert (prepared.custom_plans, prepared.generic_plans) == (5, 5)


def test_a_scope_version_is_read_through_the_index_in_a_generic_plan(
    engine: Engine, busy_log: tuple[uuid.UUID, str]
) -> None:
    tenant_id, _busy = busy_log
    statement = checkpoints.last_change_of(
        bindparam("tenant", type_=Uuid()), bindparam("scope", type_=String())
    )
    prepared = _prepare(engine, statement, {"tenant": tenant_id, "scope": "taxonomy"})
    assert "pk_sync_scope_changes" not in prepared.generic_plan, prepared.generic_plan
    assert "Rows Removed by Filter" not in prepared.generic_plan, prepared.generic_plan
    assert (prepared.custom_plans, prepared.generic_plans) == (5, 5)


def test_a_page_of_changes_reads_each_scope_through_its_index(
    engine: Engine, busy_log: tuple[uuid.UUID, str]
) -> None:
    """With one ``OR`` over the scopes, the generic plan walked the primary key from
    the tenant's first change: each page re-read every page before it. And asking
    whether the scope still holds each row with ``EXISTS`` hashed all its members."""
    tenant_id, busy = busy_log
    prepared = _prepare(
        engine,
        queries._changes_after(2),
        {
            "tenant": tenant_id,
            "limit": 1001,
            "scope_0": "taxonomy",  # no change at all: the walk would read all 20,000
            "after_0": 0,
            "scope_1": busy,
            "after_1": 0,  # the first page
        },
    )
    for plan in (prepared.generic_plan, prepared.custom_plan):
        assert "pk_sync_scope_changes" not in plan, plan
        assert plan.count("ix_sync_scope_changes_scope_seq") == 2, plan
        assert "Rows Removed by Filter" not in plan, plan
        assert "Hash" not in plan and "Seq Scan" not in plan, plan  # members probed by key
        assert "rows=1001 loops=1" in plan, plan


def test_which_keys_a_scope_holds_is_one_probe_per_key(
    engine: Engine, busy_log: tuple[uuid.UUID, str]
) -> None:
    """As a join, PostgreSQL hashed every member of the scope to look up a few keys."""
    tenant_id, busy = busy_log
    with engine.connect() as connection:
        held = list(connection.scalars(select(SyncScopeMember.row_id).limit(1000)))
    prepared = _prepare(
        engine,
        queries._members_among(),
        {
            "tenant": tenant_id,
            "scope": busy,
            "tables": ["work_orders"] * 1010,  # a page's worth
            "ids": [*held, *(uuid.uuid4() for _ in range(10))],
        },
    )
    for plan in (prepared.generic_plan, prepared.custom_plan):
        assert "Hash" not in plan and "Seq Scan on sync_scope_members" not in plan, plan
        assert "rows=1000 loops=1" in plan.splitlines()[0], plan
