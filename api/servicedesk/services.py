"""Business calendar use cases. Each owns one unit of work and audits what it changes.

Everything a calendar will be asked later is checked here, at save time: hours
that cannot exist, intervals that overlap, a time zone or holiday country that
no package knows, a team of another tenant. An SLA clock never meets a broken
calendar. Every change recomputes the tenant's unfinished orders' due times.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.audit.changes import apply_changes, snapshot
from api.auth.actor import Actor
from api.db import UnitOfWork
from api.db.checks import check_version, ensure_unused_id
from api.errors.base import FieldProblem
from api.errors.common import ValidationFailed
from api.servicedesk import clocks, holidays
from api.servicedesk.errors import CalendarTaken, UnknownHolidayCountry, UnknownTimeZone
from api.servicedesk.hours import parse_day, parse_week, show_day
from api.servicedesk.models import BusinessCalendar, CalendarDay
from api.servicedesk.queries import access_calendar
from api.teams.models import Team

CALENDAR_FIELDS = frozenset(
    {"name", "team_id", "time_zone", "weekly_hours", "holiday_country", "makeup_hours"}
)


def create_calendar(uow: UnitOfWork, actor: Actor, data: Mapping[str, Any]) -> BusinessCalendar:
    with uow:
        session = uow.session
        calendar_id = data.get("id") or None
        ensure_unused_id(session, BusinessCalendar, calendar_id)
        values = _checked(session, actor, data)
        _ensure_team_free(session, actor, values.get("team_id"))
        row = BusinessCalendar(tenant_id=actor.tenant_id)
        if calendar_id:
            row.id = calendar_id
        apply_changes(row, values, CALENDAR_FIELDS)
        session.add(row)
        session.flush()  # assigns the id before the audit snapshot
        audit.record(
            session, actor, "create", "business_calendar", row.id, snapshot(row, CALENDAR_FIELDS)
        )
        _recompute(session, actor)
        uow.commit()
        return row


def update_calendar(
    uow: UnitOfWork,
    actor: Actor,
    calendar_id: uuid.UUID,
    expected_version: int,
    changes: Mapping[str, Any],
) -> BusinessCalendar:
    with uow:
        session = uow.session
        row = access_calendar(session, actor, calendar_id)
        check_version(row, expected_version)
        values = _checked(session, actor, changes)
        diff = apply_changes(row, values, CALENDAR_FIELDS)
        audit.record(session, actor, "update", "business_calendar", row.id, diff)
        _recompute(session, actor)
        uow.commit()
        return row


def delete_calendar(
    uow: UnitOfWork, actor: Actor, calendar_id: uuid.UUID, expected_version: int
) -> None:
    with uow:
        session = uow.session
        row = access_calendar(session, actor, calendar_id)
        check_version(row, expected_version)
        audit.record(session, actor, "delete", "business_calendar", row.id, snapshot(row, ["name"]))
        session.delete(row)
        _recompute(session, actor)
        uow.commit()


def set_day(
    uow: UnitOfWork, actor: Actor, calendar_id: uuid.UUID, day: str, data: Mapping[str, Any]
) -> dict[str, Any]:
    """Make one date a workday with these hours, or (``hours: []``) a day off."""
    with uow:
        session = uow.session
        row = access_calendar(session, actor, calendar_id)
        when = _date(day)
        hours = parse_day("hours", data["hours"])
        found = session.get(CalendarDay, (row.id, when))
        before = None if found is None else {"hours": found.hours, "note": found.note}
        if found is None:
            found = CalendarDay(tenant_id=actor.tenant_id, calendar_id=row.id, day=when)
            session.add(found)
        found.hours = [list(pair) for pair in hours]
        found.note = data.get("note")
        audit.record(
            session,
            actor,
            "update",
            "business_calendar",
            row.id,
            {
                f"days.{when.isoformat()}": {
                    "before": before,
                    "after": {"hours": found.hours, "note": found.note},
                }
            },
        )
        _recompute(session, actor)
        uow.commit()
        return {
            "date": when,
            "working": bool(hours),
            "hours": show_day(hours),
            "source": "override",
            "holiday": None,
            "note": found.note,
        }


def clear_day(uow: UnitOfWork, actor: Actor, calendar_id: uuid.UUID, day: str) -> None:
    """Forget a date's override: it follows the weekly hours and public holidays again."""
    with uow:
        session = uow.session
        row = access_calendar(session, actor, calendar_id)
        when = _date(day)
        found = session.get(CalendarDay, (row.id, when))
        if found is not None:
            session.delete(found)
            audit.record(
                session,
                actor,
                "update",
                "business_calendar",
                row.id,
                {
                    f"days.{when.isoformat()}": {
                        "before": {"hours": found.hours, "note": found.note},
                        "after": None,
                    }
                },
            )
        _recompute(session, actor)
        uow.commit()


def _recompute(session: Session, actor: Actor) -> None:
    """A calendar change moves the due times (and the escalation checks) of every
    unfinished order of the tenant that counts on it."""
    session.flush()  # the clocks read without autoflush: they must see this change
    clocks.refresh_tenant(session, actor.tenant_id)


def _checked(session: Session, actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in data.items() if k in CALENDAR_FIELDS}
    if "time_zone" in values:
        try:
            ZoneInfo(values["time_zone"])
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise UnknownTimeZone(errors=[FieldProblem("time_zone", "not_allowed")]) from exc
    if values.get("holiday_country") and not holidays.is_known_country(values["holiday_country"]):
        raise UnknownHolidayCountry(errors=[FieldProblem("holiday_country", "not_allowed")])
    if "weekly_hours" in values:
        values["weekly_hours"] = parse_week(values["weekly_hours"])
    if values.get("makeup_hours") is not None:
        values["makeup_hours"] = [
            list(p) for p in parse_day("makeup_hours", values["makeup_hours"])
        ]
    if values.get("team_id") is not None:
        _check_team(session, actor, values["team_id"])
    return values


def _check_team(session: Session, actor: Actor, team_id: uuid.UUID) -> None:
    mine = exists().where(Team.id == team_id, Team.tenant_id == actor.tenant_id)
    if not session.scalar(select(mine)):
        raise ValidationFailed(errors=[FieldProblem("team_id", "not_found", "No such team")])


def _ensure_team_free(session: Session, actor: Actor, team_id: uuid.UUID | None) -> None:
    taken = exists().where(
        BusinessCalendar.tenant_id == actor.tenant_id,
        BusinessCalendar.team_id.is_(None)
        if team_id is None
        else BusinessCalendar.team_id == team_id,
    )
    if session.scalar(select(taken)):
        raise CalendarTaken()


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationFailed(
            errors=[FieldProblem("date", "invalid_format", "Use YYYY-MM-DD")]
        ) from exc
