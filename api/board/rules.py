"""How urgent an open order looks on the board: its SLA state, from the due time alone.

A pure rule (no database), so the map's colours and the list's badges agree and
are property-tested. The resolution due time (``work_orders.sla_due_at``) is
computed by the server on business calendars (:mod:`api.servicedesk.clocks`);
here "at risk" is wall-clock: three quarters of the way from creation to the
due time, the same threshold as the service desk's warnings.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from api.workorders.states import Status

AT_RISK_FRACTION = 0.75


class SlaState(StrEnum):
    NONE = "none"  # no policy gives the order a due time
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"  # past 75 % of its window
    BREACHED = "breached"  # past the due time
    PAUSED = "paused"  # waiting (on the customer or parts): the clock stands still


def sla_state(
    status: Status | str, created_at: datetime, due: datetime | None, now: datetime
) -> SlaState:
    """A breach shows even while paused: pausing stops the clock, it does not undo lateness.

    ``status`` may be the stored string (a read on the driver) or the member."""
    if due is None:
        return SlaState.NONE
    if now >= due:
        return SlaState.BREACHED
    if status == Status.PAUSED:
        return SlaState.PAUSED
    if now >= created_at + (due - created_at) * AT_RISK_FRACTION:
        return SlaState.AT_RISK
    return SlaState.ON_TRACK


# Statuses that make a technician's current job, most engaged first.
ENGAGED: tuple[Status, ...] = (
    Status.IN_PROGRESS,
    Status.ON_SITE,
    Status.EN_ROUTE,
    Status.PAUSED,
    Status.ACCEPTED,
    Status.ASSIGNED,
)
OPEN: tuple[Status, ...] = (Status.NEW, *reversed(ENGAGED))


class Activity(StrEnum):
    WORKING = "working"  # on site or working
    TRAVELLING = "travelling"
    BUSY = "busy"  # holds accepted or paused work, not moving to any
    AVAILABLE = "available"  # nothing accepted (assigned offers may be waiting)


def activity(current: Status | None) -> Activity:
    if current in (Status.IN_PROGRESS, Status.ON_SITE):
        return Activity.WORKING
    if current is Status.EN_ROUTE:
        return Activity.TRAVELLING
    if current in (Status.PAUSED, Status.ACCEPTED):
        return Activity.BUSY
    return Activity.AVAILABLE
