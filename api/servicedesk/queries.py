"""Reading business calendars, and turning one into the pure rules the SLA clock runs on."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.errors.base import FieldProblem
from api.errors.common import ValidationFailed
from api.http.pagination import Page, paginate
from api.servicedesk import holidays
from api.servicedesk.calendar import Calendar
from api.servicedesk.errors import CalendarNotFound
from api.servicedesk.hours import show_day
from api.servicedesk.models import BusinessCalendar, CalendarDay

MAX_RANGE_DAYS = 366


def access_calendar(session: Session, actor: Actor, calendar_id: uuid.UUID) -> BusinessCalendar:
    """The calendar if it is this actor's tenant's; otherwise 404, whether or not it exists."""
    found = session.scalars(
        select(BusinessCalendar).where(
            BusinessCalendar.id == calendar_id, BusinessCalendar.tenant_id == actor.tenant_id
        )
    ).one_or_none()
    if found is None:
        raise CalendarNotFound()
    return found


def list_calendars(session: Session, actor: Actor, *, limit: int, cursor: str | None) -> Page:
    stmt: Select[tuple[BusinessCalendar]] = select(BusinessCalendar).where(
        BusinessCalendar.tenant_id == actor.tenant_id
    )
    return paginate(session, stmt, BusinessCalendar.id, limit=limit, cursor=cursor)


def rules_of(session: Session, row: BusinessCalendar, years: range) -> Calendar:
    """The pure calendar of ``row`` for ``years``: weekly hours, public days, overrides."""
    days_off: set[date] = set()
    makeup: set[date] = set()
    if row.holiday_country:
        days_off, makeup = holidays.public_days(row.holiday_country, years)
    overrides = session.scalars(select(CalendarDay).where(CalendarDay.calendar_id == row.id))
    return Calendar(
        time_zone=row.time_zone,
        weekly={int(k): tuple(tuple(p) for p in v) for k, v in row.weekly_hours.items()},
        holidays=frozenset(days_off),
        makeup_days=frozenset(makeup),
        makeup_hours=None
        if row.makeup_hours is None
        else tuple((s, e) for s, e in row.makeup_hours),
        overrides={d.day: tuple((s, e) for s, e in d.hours) for d in overrides},
    )


def resolved_days(
    session: Session,
    actor: Actor,
    calendar_id: uuid.UUID,
    start: date | None,
    end: date | None,
) -> dict[str, Any]:
    """Each date from ``start`` to ``end`` (inclusive): its hours and why it has them."""
    start = start or datetime.now(UTC).date()
    end = end or start + timedelta(days=30)

    row = access_calendar(session, actor, calendar_id)
    if end < start or (end - start).days >= MAX_RANGE_DAYS:
        raise ValidationFailed(
            errors=[FieldProblem("to", "out_of_range", "From `from`, at most 366 days")]
        )
    years = range(start.year, end.year + 1)
    rules = rules_of(session, row, years)
    names = holidays.holiday_names(row.holiday_country, years) if row.holiday_country else {}
    notes = {
        d.day: d.note
        for d in session.scalars(select(CalendarDay).where(CalendarDay.calendar_id == row.id))
    }
    items = []
    day = start
    while day <= end:
        hours = rules.hours_on(day)
        items.append(
            {
                "date": day,
                "working": bool(hours),
                "hours": show_day(hours),
                "source": rules.source_of(day),
                "holiday": names.get(day),
                "note": notes.get(day),
            }
        )
        day += timedelta(days=1)
    covered = not row.holiday_country or all(
        holidays.covered(row.holiday_country, y) for y in years
    )
    return {"items": items, "covered": covered}
