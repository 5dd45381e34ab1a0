"""Technician profile rules: time zone, working hours, certifications and skills.

Pure functions, no I/O. The request schemas check types and lengths; these
check what a schema cannot express (intervals that overlap, a certificate that
expires before it was issued, a skill listed twice). Every broken rule becomes
a :class:`FieldProblem` with a stable code and a field path such as
``working_hours.mon.1``, and :func:`check_profile` reports all of them at once
so a form can mark every mistake in one round trip.

Working hours are ``{"mon": [["08:30", "12:00"], ["13:00", "17:30"]], ...}``:
keys ``mon``..``sun``, 24-hour ``HH:MM`` times, each interval ending after it
starts, intervals sorted and non-overlapping (touching is fine), at most four
a day. ``24:00`` may end an interval so a shift can run to midnight. A
missing or empty day is a day off.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from api.errors.base import FieldProblem
from api.errors.common import ValidationFailed

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_INTERVALS_PER_DAY = 4
SKILL_SLUG = re.compile(r"^[a-z0-9_-]{1,64}\Z")
MIN_SKILL_LEVEL, MAX_SKILL_LEVEL = 1, 5

_TIME = re.compile(r"([0-9]{2}):([0-9]{2})")
_END_OF_DAY = 24 * 60

# Field codes beyond the generic ones in api.errors.fields.
END_NOT_AFTER_START = "end_not_after_start"
UNSORTED = "unsorted"
OVERLAPPING = "overlapping"
TOO_MANY_INTERVALS = "too_many_intervals"
BEFORE_ISSUED_ON = "before_issued_on"
DUPLICATE = "duplicate"


def check_profile(data: Mapping[str, Any]) -> None:
    """Raise one 422 listing every broken rule among the fields present in ``data``."""
    problems: list[FieldProblem] = []
    if data.get("timezone") is not None:
        problems += timezone_problems(data["timezone"])
    if data.get("working_hours") is not None:
        problems += working_hours_problems(data["working_hours"])
    if data.get("certifications") is not None:
        problems += certification_problems(data["certifications"])
    if data.get("skills") is not None:
        problems += skill_problems(data["skills"])
    if problems:
        raise ValidationFailed(errors=problems)


def timezone_problems(name: str) -> list[FieldProblem]:
    if name in _known_timezones():
        return []
    return [FieldProblem("timezone", "not_allowed", "Use an IANA time zone such as Asia/Shanghai")]


def working_hours_problems(hours: Mapping[str, Sequence[Sequence[str]]]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    for day, intervals in hours.items():
        field = f"working_hours.{day}"
        if day not in WEEKDAYS:
            problems.append(FieldProblem(field, "not_allowed", "Days are mon, tue, ... sun"))
        elif len(intervals) > MAX_INTERVALS_PER_DAY:
            problems.append(
                FieldProblem(
                    field,
                    TOO_MANY_INTERVALS,
                    f"At most {MAX_INTERVALS_PER_DAY} intervals a day",
                )
            )
        else:
            problems += _day_problems(field, intervals)
    return problems


def normalised_working_hours(hours: Mapping[str, Sequence[Sequence[str]]]) -> dict[str, Any]:
    """Valid hours in weekday order, days off left out, intervals as lists."""
    return {day: [list(interval) for interval in hours[day]] for day in WEEKDAYS if hours.get(day)}


def certification_problems(certifications: Sequence[Mapping[str, Any]]) -> list[FieldProblem]:
    problems = []
    for index, cert in enumerate(certifications):
        issued, expires = cert.get("issued_on"), cert.get("expires_on")
        if issued is not None and expires is not None and expires < issued:
            problems.append(
                FieldProblem(
                    f"certifications.{index}.expires_on",
                    BEFORE_ISSUED_ON,
                    "A certificate cannot expire before it was issued",
                )
            )
    return problems


def skill_problems(skills: Sequence[Mapping[str, Any]]) -> list[FieldProblem]:
    problems = []
    seen: set[str] = set()
    for index, item in enumerate(skills):
        if item["skill"] in seen:
            problems.append(
                FieldProblem(f"skills.{index}.skill", DUPLICATE, "Each skill may appear once")
            )
        seen.add(item["skill"])
    return problems


def certification_expired(certification: Mapping[str, Any], today: dt.date) -> bool:
    """Valid through its ``expires_on`` day; expired from the day after."""
    expires = certification.get("expires_on")
    if expires is None:
        return False
    if isinstance(expires, str):
        expires = dt.date.fromisoformat(expires)
    return bool(expires < today)


def local_today(timezone: str, now: dt.datetime | None = None) -> dt.date:
    """Today's date where the technician works (UTC if the zone is unknown)."""
    now = now or dt.datetime.now(dt.UTC)
    try:
        return now.astimezone(zoneinfo.ZoneInfo(timezone)).date()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return now.astimezone(dt.UTC).date()


def _day_problems(field: str, intervals: Iterable[Sequence[str]]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    previous: tuple[int, int] | None = None
    for index, interval in enumerate(intervals):
        where = f"{field}.{index}"
        parsed = _parse_interval(interval)
        if parsed is None:
            problems.append(
                FieldProblem(where, "invalid_format", 'Write ["HH:MM", "HH:MM"] in 24-hour time')
            )
            continue
        start, end = parsed
        if end <= start:
            problems.append(FieldProblem(where, END_NOT_AFTER_START, "End after the start"))
            continue
        if previous is not None and start < previous[0]:
            problems.append(FieldProblem(where, UNSORTED, "List a day's intervals in order"))
        elif previous is not None and start < previous[1]:
            problems.append(FieldProblem(where, OVERLAPPING, "Overlaps the previous interval"))
        previous = parsed
    return problems


def _parse_interval(interval: Sequence[str]) -> tuple[int, int] | None:
    if len(interval) != 2:
        return None
    start, end = _minutes(interval[0]), _minutes(interval[1])
    if start is None or end is None or start == _END_OF_DAY:
        return None
    return start, end


def _minutes(value: str) -> int | None:
    match = _TIME.fullmatch(value)
    if match is None:
        return None
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes != 0):
        return None
    return hours * 60 + minutes


@functools.cache
def _known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())
