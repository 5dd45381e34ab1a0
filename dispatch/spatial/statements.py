"""What both databases' statements share: the facts of a short list as SQLAlchemy
statements read them (``nearest``/``shortlist``), the facts document of
``technician_places`` (``qualified``), and running a statement on the driver."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import psycopg
from psycopg.types.json import set_json_loads
from sqlalchemy import JSON, Boolean, Connection, Float, Integer, String, Uuid, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from dispatch.spatial.places import Located, Placed

JSON_TYPE = JSON().with_variant(JSONB(), "postgresql")
_FACTS_SQL = """
    SELECT n.technician_id, n.lat, n.lon, n.source, n.fixed_at, DISTANCE AS d,
           tf.name, tf.active, tf.certifications, tf.working_hours, tf.timezone,
           tf.skill_levels,
           (SELECT count(*) FROM work_orders w
            WHERE w.tenant_id = :tenant AND w.assignee_id = n.technician_id
              AND w.status IN :open) AS open_orders
    FROM (NEAREST) AS n
    JOIN technicians tf ON tf.id = n.technician_id AND tf.tenant_id = :tenant
"""
FACT_COLUMNS: dict[str, Any] = {
    "technician_id": Uuid(),
    "lat": Float(),
    "lon": Float(),
    "source": String(),
    "d": Float(),
    "name": String(),
    "active": Boolean(),
    "certifications": JSON_TYPE,
    "working_hours": JSON_TYPE,
    "timezone": String(),
    "skill_levels": JSON_TYPE,
    "open_orders": Integer(),
}


def facts_statement(sql: str, fixed_at: Any, distance: str) -> Any:
    """``sql`` (the nearest, as rows with a distance) with each one's facts."""
    return (
        text(_FACTS_SQL.replace("NEAREST", sql).replace("DISTANCE", distance))
        .bindparams(
            bindparam("tenant", type_=Uuid()),
            bindparam("fresh", type_=fixed_at),
            bindparam("skill", type_=String()),
            bindparam("open", expanding=True),
        )
        .columns(fixed_at=fixed_at, **FACT_COLUMNS)
    )


def placed_from_row(row: Any, located: Located) -> Placed:
    """A row of :func:`facts_statement` (or of the same columns) as a :class:`Placed`."""
    return Placed(
        located,
        row.name,
        row.active,
        row.certifications or [],
        row.working_hours or {},
        row.timezone,
        {str(k): int(v) for k, v in (row.skill_levels or {}).items()},
        row.open_orders,
    )


def placed_by_facts(located: Located, facts: Any, open_orders: int) -> Placed:
    """An active technician of ``qualified`` from the ``facts`` document of their
    ``technician_places`` row (migration 0043): decoded already by psycopg, JSON text
    from SQLite."""
    if isinstance(facts, str | bytes):
        facts = orjson.loads(facts)
    return Placed(
        located, facts["name"], True, facts["certifications"] or [],
        facts["working_hours"] or {}, facts["timezone"],
        {str(k): int(v) for k, v in (facts["skill_levels"] or {}).items()}, open_orders,
    )  # fmt: skip


def skill_params(skill: tuple[str, int] | None) -> dict[str, object]:
    return {"skill": skill[0] if skill else None, "level": skill[1] if skill else 0}


_QUALIFIED_CURSOR = "fieldline_dispatch_cursor"  # key in the pool entry's info


def driver_rows(connection: Connection, sql: str, params: Mapping[str, Any]) -> list[Any]:
    """Rows of ``sql`` run on the driver's own cursor, inside the connection's transaction.

    One cursor per database connection, kept with it (the pool entry's ``info`` lives
    as long as the driver connection): making a psycopg cursor costs a fifth of a
    round trip's client CPU. On psycopg the cursor speaks PostgreSQL's binary format
    (uuids, floats and times cost less to read than their text), and decodes JSON
    columns with orjson."""
    pooled = connection.connection
    cursor = pooled.info.get(_QUALIFIED_CURSOR)
    if cursor is None:
        driver: Any = pooled.driver_connection
        if isinstance(driver, psycopg.Connection):
            cursor = driver.cursor(binary=True)
            set_json_loads(orjson.loads, cursor)
        else:
            cursor = driver.cursor()
        pooled.info[_QUALIFIED_CURSOR] = cursor
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    except Exception:
        # Again through SQLAlchemy, which gives a driver error its usual handling (a
        # lost server invalidates the pool, the API answers 503): a read is safe to
        # repeat, and a failure repeats as the same error.
        pooled.info.pop(_QUALIFIED_CURSOR, None)
        return list(connection.exec_driver_sql(sql, dict(params)).all())


def in_list(statuses: Sequence[str]) -> str:
    """The open statuses as SQL literals: this module's own constants, never user input."""
    for status in statuses:
        if not status.replace("_", "").isalnum():
            raise ValueError(f"not a status: {status!r}")
    return ", ".join(f"'{status}'" for status in statuses)
