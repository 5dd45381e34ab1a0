"""Between the API's ``"HH:MM"`` intervals and the minutes the calendar rules use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from api.errors.base import FieldProblem
from api.servicedesk.calendar import MINUTES_PER_DAY, Hours, check_hours, normalise
from api.servicedesk.errors import ImpossibleHours, OverlappingHours

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def minutes(clock: str) -> int:
    """``"09:30"`` -> 570; an impossible time (``"09:75"``) -> -1, which the rules refuse."""
    hour, minute = (int(part) for part in clock.split(":"))
    return hour * 60 + minute if minute < 60 else -1


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_day(field: str, intervals: Iterable[Mapping[str, str]]) -> Hours:
    """One day's intervals, checked: 422 ``impossible_hours`` / ``overlapping_intervals``."""
    pairs = [(minutes(i["start"]), minutes(i["end"])) for i in intervals]
    problems = check_hours(pairs)
    if problems:
        errors = [
            FieldProblem(f"{field}[{p.index}]", _field_code(p.code, pairs[p.index]), p.message)
            for p in problems
        ]
        if any(p.code == "impossible_hours" for p in problems):
            raise ImpossibleHours(errors=errors)
        raise OverlappingHours(errors=errors)
    return normalise(pairs)


def parse_week(weekly: Mapping[str, Any]) -> dict[str, list[list[int]]]:
    stored: dict[str, list[list[int]]] = {}
    for number, name in enumerate(WEEKDAYS):
        hours = parse_day(f"weekly_hours.{name}", weekly.get(name) or [])
        if hours:
            stored[str(number)] = [list(pair) for pair in hours]
    return stored


def show_day(hours: Iterable[Iterable[int]]) -> list[dict[str, str]]:
    return [{"start": clock(s), "end": clock(e)} for s, e in hours]


def show_week(stored: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
    return {name: show_day(stored.get(str(n), [])) for n, name in enumerate(WEEKDAYS)}


def _field_code(code: str, pair: tuple[int, int]) -> str:
    if code == "overlapping_intervals":
        return "overlapping"
    start, end = pair
    inside = 0 <= start <= MINUTES_PER_DAY and 0 <= end <= MINUTES_PER_DAY
    return "end_not_after_start" if inside else "out_of_range"
