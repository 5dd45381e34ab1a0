"""The SLA oracle: business time counted minute by minute, the slow and obvious way.

A minute ``[t, t+60)`` is worked when the local wall-clock time at ``t`` lies in
one of the hours of its local date and no pause covers it. The engine in
``api.servicedesk`` must agree with this on every input (property tests) and is
measured against it (``benchmarks/bench_sla.py``). Inputs are whole minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from api.servicedesk.calendar import Calendar

LIMIT_MINUTES = 2 * 366 * 1440


def worked_minute(
    calendar: Calendar, zone: ZoneInfo, t: int, pauses: Sequence[tuple[int, int | None]]
) -> bool:
    for start, end in pauses:
        if start <= t and (end is None or t < end):
            return False
    local = datetime.fromtimestamp(t, zone)
    minute = local.hour * 60 + local.minute
    return any(s <= minute < e for s, e in calendar.hours_on(local.date()))


def brute_due(
    calendar: Calendar,
    start: int,
    target_minutes: int,
    pauses: Sequence[tuple[int, int | None]] = (),
) -> int | None:
    if target_minutes <= 0:
        return start
    zone = ZoneInfo(calendar.time_zone)
    counted, t = 0, start
    for _ in range(LIMIT_MINUTES):
        if any(s <= t and e is None for s, e in pauses):
            return None
        if worked_minute(calendar, zone, t, pauses):
            counted += 1
            if counted == target_minutes:
                return t + 60
        t += 60
    raise AssertionError("no working time within two years")


def brute_elapsed(
    calendar: Calendar, start: int, moment: int, pauses: Sequence[tuple[int, int | None]] = ()
) -> int:
    zone = ZoneInfo(calendar.time_zone)
    return sum(60 for t in range(start, moment, 60) if worked_minute(calendar, zone, t, pauses))
