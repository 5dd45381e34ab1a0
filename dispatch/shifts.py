"""When a technician may be tracked: on shift, or on an active job.

Positions are personal data. Fieldline keeps a fix only if, at the fix's own
time, the technician was on shift (their weekly working hours, in their time
zone) or working a job (from leaving for it to finishing or pausing it). A
technician without working hours is tracked only on jobs.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

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
