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
from sqlalchemy import Engine, Integer, String, Uuid, bindparam, insert, text

from api.sync import checkpoints, noop
from api.sync.models import SyncScopeChange
from tests.conftest import backend
from tests.support.factories import Factories

pytestmark = pytest.mark.skipif(backend() != "postgresql", reason="PostgreSQL's planner")

BUSY_CHANGES = 20_000


@dataclass(frozen=True)
class Prepared:
    generic_plan: str  # EXPLAIN ANALYZE of the generic plan, run with the values
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
    kinds = {Uuid: "uuid", String: "text", Integer: "bigint"}
    types = [
        next(name for kind, name in kinds.items() if isinstance(compiled.binds[n].type, kind))
        for n in names
    ]
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
        driver.execute("SET plan_cache_mode = force_generic_plan")
        explain = psql.SQL("EXPLAIN (ANALYZE, COSTS OFF) EXECUTE probe ({})").format(arguments)
        plan = "\n".join(line for (line,) in driver.execute(explain).fetchall())
        driver.execute("DEALLOCATE probe")
        driver.execute("RESET plan_cache_mode")
    return Prepared(plan, generic_plans=row[0], custom_plans=row[1])


@pytest.fixture
def busy_log(engine: Engine, factories: Factories) -> tuple[uuid.UUID, str]:
    """A tenant whose change log is all one technician's scope, analyzed."""
    scene = factories.scene()
    tenant_id = scene.world.tenant_id
    busy = f"technician:{scene.technician.id}"
    with engine.begin() as connection:
        connection.execute(
            insert(SyncScopeChange),
            [
                {
                    "tenant_id": tenant_id,
                    "change_seq": 1_000_000 + n,
                    "scope": busy,
                    "table_name": "work_orders",
                    "row_id": uuid.uuid4(),
                    "op": "upsert",
                }
                for n in range(BUSY_CHANGES)
            ],
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE sync_scope_changes"))
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
