"""Business calendars as plain data, and the timeline of working instants they define.

A calendar says, for every local date, which wall-clock intervals are working
time: an explicit per-date override wins, then a public holiday (a day off),
then a make-up workday (调休, worked with the calendar's make-up hours), then
the weekly hours. :class:`Timeline` turns that into sorted UTC intervals with a
running total, so "business seconds between two instants" and "the instant at
which N business seconds have passed" are two bisections, whatever the zone's
daylight-saving rules. No Flask, no SQLAlchemy: the SLA engine and its property
tests use this module directly.

An instant is working time when its *local* wall-clock time lies in one of the
intervals of its *local* date. On a day when clocks go forward, an interval
across the gap is an hour shorter; when they go back, the repeated hour counts
twice when it is inside the interval (the brute-force calculator in the tests
uses exactly this definition, minute by minute).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 1440
# Far enough to cross any real holiday season; a calendar with no working time
# within this horizon has no due time at all.
HORIZON_DAYS = 3 * 366
_CHUNK_DAYS = 62

Hours = tuple[tuple[int, int], ...]
"""Working intervals of one day: ``(start, end)`` minutes since local midnight, end exclusive."""


class NoWorkingTime(Exception):
    """The calendar has no working time within :data:`HORIZON_DAYS` of the instant asked."""


@dataclass(frozen=True)
class HoursProblem:
    """Why a day's hours cannot be saved: a stable ``code`` and the offending interval."""

    code: str  # "impossible_hours" | "overlapping_intervals"
    index: int
    message: str


def check_hours(hours: Iterable[tuple[int, int]]) -> list[HoursProblem]:
    """Problems of one day's intervals: out of the day, empty or reversed, overlapping."""
    problems: list[HoursProblem] = []
    valid: list[tuple[int, int, int]] = []
    for index, (start, end) in enumerate(hours):
        if not (0 <= start < end <= MINUTES_PER_DAY):
            problems.append(
                HoursProblem(
                    "impossible_hours",
                    index,
                    "An interval must start before it ends, within 00:00-24:00",
                )
            )
        else:
            valid.append((start, end, index))
    valid.sort()
    for (_, end, _), (start, _, index) in itertools.pairwise(valid):
        if start < end:
            problems.append(
                HoursProblem("overlapping_intervals", index, "Intervals of one day overlap")
            )
    return problems


def normalise(hours: Iterable[tuple[int, int]]) -> Hours:
    """Sorted intervals with touching ones joined (09:00-12:00 + 12:00-18:00 = 09:00-18:00)."""
    merged: list[list[int]] = []
    for start, end in sorted(hours):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


@dataclass(frozen=True)
class Calendar:
    """Working time of one team (or a tenant's default) in one time zone."""

    time_zone: str
    weekly: Mapping[int, Hours]  # weekday (Monday = 0) -> hours
    holidays: frozenset[date] = frozenset()
    makeup_days: frozenset[date] = frozenset()
    makeup_hours: Hours | None = None  # None: the first weekday that has hours
    overrides: Mapping[date, Hours] = field(default_factory=dict)  # () = a day off

    def hours_on(self, day: date) -> Hours:
        found = self.overrides.get(day)
        if found is not None:
            return found
        if day in self.holidays:
            return ()
        if day in self.makeup_days:
            return self.makeup_hours if self.makeup_hours is not None else self._first_hours()
        return self.weekly.get(day.weekday(), ())

    def source_of(self, day: date) -> str:
        """Why the day has its hours: override, holiday, makeup or weekly."""
        if day in self.overrides:
            return "override"
        if day in self.holidays:
            return "holiday"
        if day in self.makeup_days:
            return "makeup"
        return "weekly"

    def _first_hours(self) -> Hours:
        for weekday in range(7):
            if self.weekly.get(weekday):
                return self.weekly[weekday]
        return ()


def day_intervals(calendar: Calendar, zone: ZoneInfo, day: date) -> list[tuple[int, int]]:
    """The UTC intervals (epoch seconds) of one local date's working time."""
    hours = calendar.hours_on(day)
    if not hours:
        return []
    midnight = datetime(day.year, day.month, day.day)
    local_epoch = int(midnight.replace(tzinfo=UTC).timestamp())  # naive local midnight as if UTC
    pieces = _offset_pieces(zone, midnight)
    out: list[tuple[int, int]] = []
    for start_min, end_min in hours:
        for piece_start, piece_end, offset in pieces:
            start = max(local_epoch + start_min * 60 - offset, piece_start)
            end = min(local_epoch + end_min * 60 - offset, piece_end)
            if start < end:
                if out and out[-1][1] >= start:
                    out[-1] = (out[-1][0], max(out[-1][1], end))
                else:
                    out.append((start, end))
    out.sort()
    return out


def _offset_pieces(zone: ZoneInfo, midnight: datetime) -> list[tuple[int, int, int]]:
    """Spans of UTC epoch seconds around one local day, each with its constant UTC offset."""
    # Wide enough for any offset (-12h..+14h) on either side of the local day.
    lo = int(midnight.replace(tzinfo=UTC).timestamp()) - 15 * 3600
    hi = lo + (24 + 30) * 3600
    pieces: list[tuple[int, int, int]] = []
    start = lo
    offset = _offset_at(zone, start)
    end_offset = _offset_at(zone, hi)
    while offset != end_offset or _changes_between(zone, start, hi, offset):
        change = _next_change(zone, start, hi, offset)
        pieces.append((start, change, offset))
        start, offset = change, _offset_at(zone, change)
    pieces.append((start, hi, offset))
    return pieces


def _offset_at(zone: ZoneInfo, epoch: int) -> int:
    delta = datetime.fromtimestamp(epoch, zone).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def _changes_between(zone: ZoneInfo, lo: int, hi: int, offset: int) -> bool:
    # Two transitions in 54 hours that cancel out do not happen in tzdata; check the middle anyway.
    return _offset_at(zone, (lo + hi) // 2) != offset


def _next_change(zone: ZoneInfo, lo: int, hi: int, offset: int) -> int:
    """The first second in (lo, hi] whose offset differs from ``offset`` (bisection)."""
    if _offset_at(zone, (lo + hi) // 2) != offset:
        hi = (lo + hi) // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset_at(zone, mid) == offset:
            lo = mid
        else:
            hi = mid
    return hi


class Timeline:
    """Working intervals of a calendar in UTC epoch seconds, built lazily in chunks of days.

    ``worked(t)`` is the business seconds from the timeline's origin to ``t``;
    ``instant_after(total)`` is the earliest instant at which ``worked`` reaches
    ``total``. Both are bisections over cached arrays, which is what makes the
    engine fast for many orders on one calendar.
    """

    def __init__(self, calendar: Calendar, origin: date) -> None:
        self.calendar = calendar
        self.zone = ZoneInfo(calendar.time_zone)
        self._first_day = origin
        self._next_day = origin
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._cum_end: list[int] = []  # business seconds up to the end of interval i
        self._covered_until = _local_midnight_epoch(self.zone, origin)

    def covers(self, epoch: int) -> bool:
        return _local_midnight_epoch(self.zone, self._first_day) + 86400 <= epoch

    def worked(self, epoch: int) -> int:
        self._extend_to(epoch)
        i = bisect.bisect_right(self._starts, epoch) - 1
        if i < 0:
            return 0
        before = self._cum_end[i] - (self._ends[i] - self._starts[i])
        return before + min(epoch, self._ends[i]) - self._starts[i]

    def instant_after(self, total: int) -> int:
        while not self._cum_end or self._cum_end[-1] < total:
            if (self._next_day - self._first_day).days > HORIZON_DAYS + _CHUNK_DAYS and (
                not self._cum_end or self._cum_end[-1] < total
            ):
                raise NoWorkingTime()
            self._grow()
        j = bisect.bisect_left(self._cum_end, total)
        return self._ends[j] - (self._cum_end[j] - total)

    def intervals(self) -> list[tuple[int, int]]:
        return list(zip(self._starts, self._ends, strict=True))

    def _extend_to(self, epoch: int) -> None:
        while self._covered_until <= epoch:
            self._grow()

    def _grow(self) -> None:
        total = self._cum_end[-1] if self._cum_end else 0
        for _ in range(_CHUNK_DAYS):
            for start, end in day_intervals(self.calendar, self.zone, self._next_day):
                if self._ends and start <= self._ends[-1]:
                    # A fall-back day's interval can touch the previous one.
                    total += max(0, end - self._ends[-1])
                    self._ends[-1] = max(self._ends[-1], end)
                    self._cum_end[-1] = total
                    continue
                total += end - start
                self._starts.append(start)
                self._ends.append(end)
                self._cum_end.append(total)
            self._next_day += timedelta(days=1)
        # Every instant before the next day's earliest possible start is settled.
        self._covered_until = _local_midnight_epoch(self.zone, self._next_day) - 15 * 3600


def _local_midnight_epoch(zone: ZoneInfo, day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp())


def to_epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: times are UTC and timezone-aware")
    return int(moment.timestamp())


def from_epoch(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
