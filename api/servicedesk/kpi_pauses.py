"""Business time of the KPIs' paused orders, by the SLA clocks' own accounting.

An order whose clocks stood still (the ``paused`` status, or an explicit pause
by the office) has its first response and resolution business time computed
here, by the SLA engine itself: :func:`api.servicedesk.clocks.stored_pauses`
says when the clocks stood still and :meth:`api.servicedesk.sla.Clock.elapsed`
subtracts that from the calendar's working time, exactly as the due times were
computed. Few orders are ever paused, so the aggregates stay in SQL
(:mod:`api.servicedesk.kpi_queries`) and only these orders' figures are sent
with the statement, as a ``VALUES`` table that replaces their SQL-computed
business time.

The table holds what this module computed: order ids written as hexadecimal
text (cast to ``uuid`` on PostgreSQL), integers and NULLs, never client input,
so a year's paused orders never run into a database's bound-parameter limit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Uuid, column, text
from sqlalchemy.orm import Session

from api.servicedesk import clocks
from api.servicedesk.calendar import from_epoch
from api.servicedesk.sla import Clock

COLUMNS = ("work_order_id", "first_response_business", "resolution_business")


def paused_business(
    session: Session,
    tenant_id: uuid.UUID,
    rows: Sequence[Any],
    calendars: dict[int, uuid.UUID],
) -> Any | None:
    """A CTE ``(work_order_id, first_response_business, resolution_business)`` for ``rows``
    (``work_order_id, created_s, first_response_s, completed_s, calendar_no``), or None."""
    if not rows:
        return None
    pauses = clocks.stored_pauses(session, tenant_id, [row.work_order_id for row in rows])
    by_calendar: dict[uuid.UUID, Clock] = {}
    values = []
    for row in sorted(rows, key=lambda r: r.created_s):  # one timeline per calendar, forwards
        calendar_id = calendars[row.calendar_no]
        if calendar_id not in by_calendar:
            calendar = clocks.calendar_for(
                session, tenant_id, calendar_id, from_epoch(row.created_s)
            )
            by_calendar[calendar_id] = Clock(calendar)
        clock, paused = by_calendar[calendar_id], pauses[row.work_order_id]

        def business(moment: int | None) -> int | None:
            return None if moment is None else clock.elapsed(row.created_s, moment, paused)  # noqa: B023

        values.append(
            (row.work_order_id, business(row.first_response_s), business(row.completed_s))
        )
    return _cte(session.get_bind().dialect.name, values)


def _cte(dialect: str, values: list[tuple[uuid.UUID, int | None, int | None]]) -> Any:
    def order_id(value: uuid.UUID) -> str:
        # SQLite keeps a uuid as its 32 hexadecimal digits; PostgreSQL reads them as a uuid.
        return f"'{value.hex}'" if dialect == "sqlite" else f"CAST('{value.hex}' AS UUID)"

    def number(value: int | None) -> str:
        return "CAST(NULL AS BIGINT)" if value is None else str(int(value))

    body = ", ".join(f"({order_id(oid)}, {number(fr)}, {number(res)})" for oid, fr, res in values)
    renamed = ", ".join(f"column{i + 1} AS {name}" for i, name in enumerate(COLUMNS))
    statement = text(f"SELECT {renamed} FROM (VALUES {body}) AS paused_orders")  # noqa: S608
    return statement.columns(
        column(COLUMNS[0], Uuid()), *(column(name, BigInteger()) for name in COLUMNS[1:])
    ).cte("paused_orders")
