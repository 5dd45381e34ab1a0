"""When a technician works: on shift, or on an active job.

Positions are personal data. Fieldline keeps a fix only if, at the fix's own
time, the technician was on shift (their weekly working hours, in their time
zone) or working a job (from leaving for it to finishing or pausing it). A
technician without working hours is tracked only on jobs. Dispatch asks the
same hours whether someone is on shift now, or long enough within a customer's
requested window (:func:`longest_on_shift`).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# From leaving for a job until it stops: the statuses during which the job is active.
ACTIVE_STATUSES = frozenset({"en_route", "on_site", "in_progress"})


def on_shift(hours: Mapping[str, Sequence[Sequence[str]]], timezone: str, at: datetime) -> bool:
    """Whether ``at`` falls inside the weekly ``hours`` (``{"mon": [["08:00", "17:00"]]}``)."""
    local = at.astimezone(zoneinfo.ZoneInfo(timezone))
    minute = local.hour * 60 + local.minute
    for start, end in hours.get(WEEKDAYS[local.weekday()], ()):
        if _minutes(start) <= minute < _minutes(end):
            return True
    return False


# Working hours repeat every week, so a stretch on shift late in a long window has a
# twin in its first eight days (a week, plus a day for a stretch past midnight).
HORIZON = timedelta(days=8)


def longest_on_shift(
    hours: Mapping[str, Sequence[Sequence[str]]], timezone: str, start: datetime, end: datetime
) -> timedelta:
    """The longest unbroken time on shift between ``start`` and ``end``.

    Intervals that touch are one stretch (``20:00-24:00`` and the next day's
    ``00:00-06:00``); a gap between two intervals, such as lunch, breaks it."""
    return max((last - first for first, last in _stretches(hours, timezone, start, end)),
               default=timedelta(0))  # fmt: skip


def first_fit(
    hours: Mapping[str, Sequence[Sequence[str]]],
    timezone: str,
    start: datetime,
    end: datetime,
    needed: timedelta,
) -> datetime | None:
    """The earliest moment between ``start`` and ``end`` from which the technician is on
    shift for ``needed`` without a break (inside that span); None if there is none."""
    for first, last in _stretches(hours, timezone, start, end):
        if last - first >= needed:
            return first
    return None


def _stretches(
    hours: Mapping[str, Sequence[Sequence[str]]], timezone: str, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The unbroken stretches on shift between ``start`` and ``end`` (clipped to them, and
    to :data:`HORIZON`), in time order."""
    zone = zoneinfo.ZoneInfo(timezone)
    end = min(end, start + HORIZON)
    spans = sorted(
        (max(first, start), min(last, end))
        for first, last in _intervals(hours, zone, start.astimezone(zone).date(), end)
        if first < end and last > start
    )
    merged: list[tuple[datetime, datetime]] = []
    for first, last in spans:
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _intervals(
    hours: Mapping[str, Sequence[Sequence[str]]], zone: zoneinfo.ZoneInfo, day: date, end: datetime
) -> Iterable[tuple[datetime, datetime]]:
    """Each working interval in UTC from local ``day`` on, until one starts after ``end``."""
    while (midnight := datetime.combine(day, time(0), zone)) < end:
        for first, last in hours.get(WEEKDAYS[day.weekday()], ()):
            # Wall-clock arithmetic: 08:00 is 08:00 local on a day clocks change too.
            yield (
                (midnight + timedelta(minutes=_minutes(first))).astimezone(UTC),
                (midnight + timedelta(minutes=_minutes(last))).astimezone(UTC),
            )
        day += timedelta(days=1)


@dataclass(frozen=True)
class StatusStep:
    """One status change of one work order."""

    work_order: object
    to_status: str
    occurred_at: datetime


def active_intervals(
    steps: Iterable[StatusStep],
) -> list[tuple[datetime, datetime | None]]:
    """The spans during which some job was active; an open span ends with None."""
    spans: list[tuple[datetime, datetime | None]] = []
    by_order: dict[object, list[StatusStep]] = {}
    for step in steps:
        by_order.setdefault(step.work_order, []).append(step)
    for order_steps in by_order.values():
        started: datetime | None = None
        for step in sorted(order_steps, key=lambda s: s.occurred_at):
            active = step.to_status in ACTIVE_STATUSES
            if active and started is None:
                started = step.occurred_at
            elif not active and started is not None:
                spans.append((started, step.occurred_at))
                started = None
        if started is not None:
            spans.append((started, None))
    return spans


def within(spans: Iterable[tuple[datetime, datetime | None]], at: datetime) -> bool:
    return any(start <= at and (end is None or at <= end) for start, end in spans)


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)
