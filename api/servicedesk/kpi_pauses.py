"""Business time of the KPIs' paused orders, by the SLA clocks' own accounting.

An order whose clocks stood still (the ``paused`` status, or an explicit pause
by the office) has its first response and resolution business time computed
here, by the SLA engine itself: :func:`api.servicedesk.clocks.stored_pauses`
says when the clocks stood still and :meth:`api.servicedesk.sla.Clock.elapsed`
subtracts that from the calendar's working time, exactly as the due times were
computed. The aggregates stay in SQL (:mod:`api.servicedesk.kpi_queries`):
these orders' figures are sent with the statement as a ``VALUES`` table of
integers (and NULLs), added to the other orders' durations before ranking, and
SQL leaves their own business time out. No order ids are needed for that, so
no join, and a year's paused orders never run into a bound-parameter limit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, column, text
from sqlalchemy.orm import Session

from api.servicedesk import clocks
from api.servicedesk.calendar import from_epoch
from api.servicedesk.sla import Clock

COLUMNS = ("first_response_business", "resolution_business")


def paused_business(
    session: Session,
    tenant_id: uuid.UUID,
    rows: Sequence[Any],
    calendars: dict[int, uuid.UUID],
) -> Any | None:
    """A CTE ``(first_response_business, resolution_business)``, one row per row of
    ``rows`` (``work_order_id, created_s, first_response_s, completed_s, calendar_no``),
    or None when there are none."""
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

        values.append((business(row.first_response_s), business(row.completed_s)))
    return _cte(values)


def _cte(values: list[tuple[int | None, int | None]]) -> Any:
    def number(value: int | None) -> str:
        return "CAST(NULL AS BIGINT)" if value is None else str(int(value))

    body = ", ".join(f"({number(fr)}, {number(res)})" for fr, res in values)
    renamed = ", ".join(f"column{i + 1} AS {name}" for i, name in enumerate(COLUMNS))
    statement = text(f"SELECT {renamed} FROM (VALUES {body}) AS paused_orders")  # noqa: S608
    return statement.columns(*(column(name, BigInteger()) for name in COLUMNS)).cte("paused_orders")
