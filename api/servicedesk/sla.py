"""The SLA clock: due times and elapsed business time, with pauses. Pure rules.

A target is a number of business seconds on a calendar. The clock starts at
the order's creation and does not run outside working hours or while paused
(waiting on the customer, or an explicit pause). The due time is the instant
at which the last business second of the target has passed: a target that ends
exactly at 18:00 on Friday is due at 18:00 on Friday, not at 09:00 on Monday.
A policy change does not restart the clock: the due time is recomputed from
the same start with the new target and the same pauses.

Everything is in epoch seconds over a :class:`Timeline`, so one calendar's
timeline serves every order that uses it (see ``benchmarks/bench_sla.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from api.servicedesk.calendar import Calendar, Timeline, from_epoch, to_epoch

Pause = tuple[int, int | None]
"""A pause in epoch seconds: ``(start, end)``; ``end`` is None while it lasts."""


class Clock:
    """Due times and elapsed business time on one calendar."""

    def __init__(self, calendar: Calendar, origin: date | None = None) -> None:
        self.calendar = calendar
        self._timeline: Timeline | None = None if origin is None else Timeline(calendar, origin)

    def due(self, start: int, target: int, pauses: Sequence[Pause] = ()) -> int | None:
        """The instant ``target`` business seconds after ``start``, skipping pauses.

        None while an open pause stops the clock before the target is reached.
        Raises :class:`~api.servicedesk.calendar.NoWorkingTime` when the
        calendar has no working time left within its horizon.
        """
        timeline = self._timeline_for(start)
        if target <= 0:
            return start
        cursor, remaining = start, target
        for pause_start, pause_end in merge_pauses(pauses):
            if pause_end is not None and pause_end <= cursor:
                continue
            if pause_start > cursor:
                available = timeline.worked(pause_start) - timeline.worked(cursor)
                if available >= remaining:
                    break
                remaining -= available
            if pause_end is None:
                return None
            cursor = max(cursor, pause_end)
        return timeline.instant_after(timeline.worked(cursor) + remaining)

    def elapsed(self, start: int, moment: int, pauses: Sequence[Pause] = ()) -> int:
        """Business seconds the clock has run from ``start`` to ``moment``."""
        if moment <= start:
            return 0
        timeline = self._timeline_for(start)
        total = timeline.worked(moment) - timeline.worked(start)
        for pause_start, pause_end in merge_pauses(pauses):
            lo = max(pause_start, start)
            hi = min(moment if pause_end is None else pause_end, moment)
            if lo < hi:
                total -= timeline.worked(hi) - timeline.worked(lo)
        return total

    def _timeline_for(self, start: int) -> Timeline:
        if self._timeline is None or not self._timeline.covers(start):
            # Two days of margin for any UTC offset.
            origin = from_epoch(start).date() - timedelta(days=2)
            self._timeline = Timeline(self.calendar, origin)
        return self._timeline


def merge_pauses(pauses: Iterable[Pause]) -> list[Pause]:
    """Pauses sorted and overlapping ones joined; an open pause swallows what follows it."""
    merged: list[Pause] = []
    for start, end in sorted(pauses, key=lambda p: p[0]):
        if end is not None and end <= start:
            continue
        if merged:
            last_start, last_end = merged[-1]
            if last_end is None:
                break
            if start <= last_end:
                merged[-1] = (last_start, None if end is None else max(last_end, end))
                continue
        merged.append((start, end))
    return merged


def due_at(
    clock: Clock,
    start: datetime,
    target_seconds: int,
    pauses: Sequence[tuple[datetime, datetime | None]] = (),
) -> datetime | None:
    """:meth:`Clock.due` for aware datetimes."""
    epoch_pauses = [(to_epoch(s), None if e is None else to_epoch(e)) for s, e in pauses]
    due = clock.due(to_epoch(start), target_seconds, epoch_pauses)
    return None if due is None else from_epoch(due)


def elapsed_at(
    clock: Clock,
    start: datetime,
    moment: datetime,
    pauses: Sequence[tuple[datetime, datetime | None]] = (),
) -> int:
    """:meth:`Clock.elapsed` for aware datetimes, in business seconds."""
    epoch_pauses = [(to_epoch(s), None if e is None else to_epoch(e)) for s, e in pauses]
    return clock.elapsed(to_epoch(start), to_epoch(moment), epoch_pauses)
