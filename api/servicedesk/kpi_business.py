"""Business time in SQL: a calendar's working time as a table of UTC days.

Public holidays, make-up workdays (调休), per-date overrides and DST cannot be
written in portable SQL, but their result can: the calendar engine
(:class:`api.servicedesk.calendar.Timeline`, the one the SLA clocks use) lists
the working intervals, and this module cuts them at UTC midnights into one row
per calendar and UTC day: the business seconds worked before that day (from
the table's first day) and the day's working pieces ``(s1, e1) … (sK, eK)``
(padded with empty ones). The business seconds up to an instant ``t`` are then
an *equality* join on ``(calendar, t // 86400)`` and a sum of overlaps:
``before + Σ max(0, min(t, e) - s)``, integer arithmetic only. A join, not a
correlated range lookup: both databases hash or index it, so the cost per
order stays flat however long the period.

The table is a ``VALUES`` list of integers written into the statement (calendar
ids become small numbers first), so a long period or many calendars never run
into a database's limit of bound parameters.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Uuid, case, column, literal, select, text
from sqlalchemy.orm import Session

from api.servicedesk.calendar import Timeline
from api.servicedesk.models import BusinessCalendar
from api.servicedesk.queries import rules_of

DAY = 86400
MAX_DAYS = 3 * 366  # a horizon for the table, far beyond the longest period (366 days)


@dataclass(frozen=True)
class DayTable:
    """The ``VALUES`` CTE, the number each calendar id was given, and the pieces per day."""

    cte: Any
    numbers: dict[uuid.UUID, int]
    pieces: int


def day_table(
    session: Session,
    tenant_id: uuid.UUID,
    calendar_ids: set[uuid.UUID],
    first: date,
    last_epoch: int,
) -> DayTable:
    """Rows ``(calendar_no, day, worked_before, s1, e1, …)`` from ``first`` to ``last_epoch``."""
    numbers: dict[uuid.UUID, int] = {}
    rows: list[list[int]] = []
    calendars = session.scalars(
        select(BusinessCalendar)
        .where(BusinessCalendar.tenant_id == tenant_id, BusinessCalendar.id.in_(calendar_ids))
        .order_by(BusinessCalendar.id)
    )
    for row in calendars:
        numbers[row.id] = len(numbers) + 1
        timeline = Timeline(rules_of(session, row, range(first.year, first.year + 4)), first)
        first_day = _epoch_day(first) - 1
        last_day = min(last_epoch // DAY, first_day + MAX_DAYS) + 1
        timeline.worked(last_day * DAY + DAY)
        rows += _days(numbers[row.id], timeline.intervals(), first_day, last_day)
    pieces = max((len(r) - 3) // 2 for r in rows) if rows else 0
    if not rows:
        rows = [[0, 0, 0]]  # VALUES needs a row: one no calendar number reaches
    width = 3 + 2 * max(pieces, 1)
    body = ", ".join(
        "(" + ", ".join(str(int(v)) for v in r + [0] * (width - len(r))) + ")" for r in rows
    )
    names = ["calendar_no", "day", "worked_before"] + [
        f"{edge}{k}" for k in range(1, max(pieces, 1) + 1) for edge in ("s", "e")
    ]
    # A bare VALUES names its columns column1, column2 … on SQLite and PostgreSQL alike.
    # Only integers this function computed are written into the text.
    renamed = ", ".join(f"column{i + 1} AS {name}" for i, name in enumerate(names))
    statement = text(f"SELECT {renamed} FROM (VALUES {body}) AS calendar_days")  # noqa: S608
    cte = statement.columns(*(column(name, BigInteger()) for name in names)).cte("calendar_days")
    return DayTable(cte, numbers, max(pieces, 1))


def calendar_number(table: DayTable, calendar_id: Any) -> Any:
    """SQL: the small number of the calendar ``calendar_id`` names (null if not in the table)."""
    if not table.numbers:
        return literal(None, BigInteger())
    return case(
        *((calendar_id == literal(cid, Uuid()), number) for cid, number in table.numbers.items()),
        else_=None,
    )


def worked(table: DayTable, days: Any, t: Any) -> Any:
    """SQL: business seconds up to epoch ``t``, given ``days``: the table's row of t's day."""
    total = days.c.worked_before
    for k in range(1, table.pieces + 1):
        s, e = days.c[f"s{k}"], days.c[f"e{k}"]
        total = total + case((t > s, case((t < e, t), else_=e) - s), else_=0)
    return total


def _days(
    number: int, intervals: Sequence[tuple[int, int]], first_day: int, last_day: int
) -> list[list[int]]:
    by_day: dict[int, list[tuple[int, int]]] = {}
    for begin, end in intervals:
        start = begin
        while start < end:  # cut at UTC midnights
            day = start // DAY
            cut = min(end, (day + 1) * DAY)
            by_day.setdefault(day, []).append((start, cut))
            start = cut
    rows, before = [], 0
    for day in range(first_day, last_day + 1):
        pieces = by_day.get(day, [])
        rows.append([number, day, before, *(v for piece in pieces for v in piece)])
        before += sum(e - s for s, e in pieces)
    return rows


def _epoch_day(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def utc_day(t: Any) -> Any:
    """SQL: the UTC day number of epoch ``t`` (integer division, ``t`` positive)."""
    return t // DAY
