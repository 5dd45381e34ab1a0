"""Business time in SQL: a calendar's working intervals as a ``VALUES`` table.

Public holidays, make-up workdays (调休), per-date overrides and DST cannot be
written in portable SQL, but their result can: the calendar engine
(:class:`api.servicedesk.calendar.Timeline`, the one the SLA clocks use) lists
the working intervals from the period's start to the latest instant measured,
each with the business seconds worked before it. Then the business seconds up
to an instant ``t`` are one lookup, the last interval starting at or before
``t``: ``before + min(t, end) - start``; a duration is the difference of two
such lookups. The same statement runs on SQLite and PostgreSQL, with integer
arithmetic only, so both give the same numbers.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Uuid, bindparam, case, column, func, literal, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from api.servicedesk.calendar import Timeline
from api.servicedesk.models import BusinessCalendar
from api.servicedesk.queries import rules_of

# Only bind placeholders are formatted in, never a value.
_SELECT_VALUES = (
    "SELECT column1 AS calendar_id, column2 AS s, column3 AS e, column4 AS worked_before"
    " FROM (VALUES {placeholders}) AS intervals"
)
# A year of a two-interval workday is ~500 rows; a horizon of three years bounds the table.
MAX_DAYS = 3 * 366


def intervals_table(
    session: Session,
    tenant_id: uuid.UUID,
    calendar_ids: set[uuid.UUID],
    first: date,
    last_epoch: int,
) -> Any:
    """A CTE of ``(calendar_id, s, e, worked_before)`` rows of each calendar in ``calendar_ids``."""
    rows: list[tuple[uuid.UUID, int, int, int]] = []
    for row in session.scalars(
        select(BusinessCalendar).where(
            BusinessCalendar.tenant_id == tenant_id, BusinessCalendar.id.in_(calendar_ids)
        )
    ):
        timeline = Timeline(rules_of(session, row, range(first.year, first.year + 4)), first)
        horizon = first + timedelta(days=MAX_DAYS)
        timeline.worked(min(last_epoch, int(_epoch_of(horizon))))
        before = 0
        for start, end in timeline.intervals():
            rows.append((row.id, start, end, before))
            before += end - start
    if not rows:  # VALUES needs a row: one that no instant can reach
        rows.append((uuid.UUID(int=0), -1, -1, 0))
    # A bare VALUES names its columns column1, column2 … on SQLite and PostgreSQL alike.
    placeholders = ", ".join(f"(:c{i}, :s{i}, :e{i}, :b{i})" for i in range(len(rows)))
    binds: list[BindParameter[Any]] = []
    for i, (calendar_id, start, end, before) in enumerate(rows):
        binds += [
            bindparam(f"c{i}", calendar_id, type_=Uuid()),
            bindparam(f"s{i}", start, type_=BigInteger()),
            bindparam(f"e{i}", end, type_=BigInteger()),
            bindparam(f"b{i}", before, type_=BigInteger()),
        ]
    return (
        text(_SELECT_VALUES.format(placeholders=placeholders))
        .bindparams(*binds)
        .columns(
            column("calendar_id", Uuid()),
            column("s", BigInteger()),
            column("e", BigInteger()),
            column("worked_before", BigInteger()),
        )
        .cte("working_intervals")
    )


def worked(table: Any, calendar_id: ColumnElement[Any], t: ColumnElement[Any]) -> Any:
    """Business seconds of ``calendar_id`` from its table's start to epoch ``t`` (SQL)."""
    cte = table
    return func.coalesce(
        select(cte.c.worked_before + case((t < cte.c.e, t), else_=cte.c.e) - cte.c.s)
        .where(cte.c.calendar_id == calendar_id, cte.c.s <= t)
        .order_by(cte.c.s.desc())
        .limit(1)
        .scalar_subquery(),
        literal(0),
    )


def _epoch_of(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
