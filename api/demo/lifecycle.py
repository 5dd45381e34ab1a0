"""A demo work order's life: the legal path to its status, when each step happened, who did it.

The path follows the work order contract (create → assign → accept → start_travel →
arrive → start_work → [pause → resume] → complete → close; cancel from an earlier
state; now and then a technician declines and the order is reassigned). Times run
backwards from "now": an order that is in progress started work minutes ago, a
closed one may be weeks old.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from api.demo.context import SHANGHAI, DemoContext
from api.demo.texts import (
    CANCEL_REASONS,
    CUSTOMER_CANCEL_REASONS,
    DECLINE_REASONS,
    PAUSE_REASONS,
)
from api.users.models import User
from api.workorders.states import Status

S = Status
# Where each action leads (the contract's table, for the actions the demo uses).
TARGET: dict[str, Status] = {
    "assign": S.ASSIGNED,
    "decline": S.NEW,
    "accept": S.ACCEPTED,
    "start_travel": S.EN_ROUTE,
    "arrive": S.ON_SITE,
    "start_work": S.IN_PROGRESS,
    "pause": S.PAUSED,
    "resume": S.IN_PROGRESS,
    "complete": S.COMPLETED,
    "close": S.CLOSED,
    "cancel": S.CANCELLED,
}
LADDER = ("assign", "accept", "start_travel", "arrive", "start_work", "complete", "close")
# Minutes from the previous step to this one; urgent work moves faster at the start.
GAPS = {
    "assign": (10, 240),
    "decline": (10, 60),
    "accept": (5, 120),
    "start_travel": (30, 1440),
    "arrive": (20, 90),
    "start_work": (5, 20),
    "pause": (30, 120),
    "resume": (120, 2880),
    "complete": (45, 240),
    "close": (240, 4320),
    "cancel": (30, 2880),
}
URGENT_GAPS = {"assign": (3, 20), "accept": (2, 10), "start_travel": (5, 30)}
# Minutes an open order has sat in its current status.
DWELL = {
    S.NEW: (5, 2880),
    S.ASSIGNED: (10, 1440),
    S.ACCEPTED: (10, 1440),
    S.EN_ROUTE: (5, 40),
    S.ON_SITE: (5, 30),
    S.IN_PROGRESS: (10, 180),
    S.PAUSED: (60, 4320),
    S.COMPLETED: (30, 5760),
}
HORIZON_MINUTES = 58 * 24 * 60  # history reaches back about two months
CANCELLED_FROM = (S.NEW, S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE, S.IN_PROGRESS, S.PAUSED)
CANCELLED_FROM_WEIGHTS = (40, 30, 12, 5, 8, 5)


@dataclass(frozen=True)
class Event:
    action: str
    from_status: Status | None
    to_status: Status
    at: datetime
    actor: User
    reason: str | None = None


@dataclass(frozen=True)
class People:
    """Who can act on one order."""

    creator: User
    creator_is_customer: bool
    dispatcher: User
    assignee: User | None  # the technician's login who ends up with the job
    decliner: User | None  # the technician who turned it down first, if anyone


def plan_actions(ctx: DemoContext, status: Status) -> list[str]:
    """The actions after "create" that lead to ``status``."""
    rng = ctx.rng
    if status is S.CANCELLED:
        before = rng.choices(CANCELLED_FROM, weights=CANCELLED_FROM_WEIGHTS)[0]
        return [*plan_actions(ctx, before), "cancel"]
    if status is S.NEW:
        return ["assign", "decline"] if rng.random() < 0.1 else []
    if status is S.PAUSED:
        return [*plan_actions(ctx, S.IN_PROGRESS), "pause"]
    reached = {TARGET[a]: i for i, a in enumerate(LADDER)}[status]
    actions = list(LADDER[: reached + 1])
    if rng.random() < 0.08:
        actions[1:1] = ["decline", "assign"]
    if "start_work" in actions and rng.random() < 0.15:
        at = actions.index("start_work") + 1
        actions[at:at] = ["pause", "resume"]
    return actions


def schedule(ctx: DemoContext, actions: list[str], status: Status, urgent: bool) -> list[datetime]:
    """When the order was created, then when each action happened (strictly increasing)."""
    gaps = [ctx.minutes(*_gap_range(action, urgent)) for action in actions]
    busy = sum(gaps, timedelta())
    if status in (S.CLOSED, S.CANCELLED):
        latest = max(60, HORIZON_MINUTES - int(busy.total_seconds() // 60))
        dwell = ctx.minutes(60, latest)
    else:
        dwell = ctx.minutes(*DWELL[status])
    created = (ctx.now - dwell - busy).replace(second=0, microsecond=0)
    if status in (S.CLOSED, S.CANCELLED, S.COMPLETED):
        created = _office_hours(ctx, created)  # live orders must stay anchored to "now"
    times = [created]
    for gap in gaps:
        times.append(times[-1] + gap)
    return times


def walk(
    ctx: DemoContext, actions: list[str], times: list[datetime], people: People
) -> list[Event]:
    """The status history, starting with the "create" row."""
    events = [Event("create", None, S.NEW, times[0], people.creator)]
    status = S.NEW
    for index, (action, at) in enumerate(zip(actions, times[1:], strict=True)):
        declined_next = index + 1 < len(actions) and actions[index + 1] == "decline"
        worker = people.decliner if action == "decline" or declined_next else people.assignee
        actor, reason = _actor_and_reason(ctx, action, status, people, worker)
        events.append(Event(action, status, TARGET[action], at, actor, reason))
        status = TARGET[action]
    return events


def final_assignee(actions: list[str]) -> bool:
    """Whether the order still has a technician at the end (a decline clears it)."""
    handovers = [a for a in actions if a in ("assign", "decline")]
    return bool(handovers) and handovers[-1] == "assign"


def _office_hours(ctx: DemoContext, moment: datetime) -> datetime:
    """Move a night-time report back to the same (or previous) day's office hours."""
    # Draw first, whatever the hour: the rest of the demo must not depend on the load time.
    hour, minute = ctx.rng.randint(8, 19), ctx.rng.randint(0, 59)
    local = moment.astimezone(SHANGHAI)
    if 8 <= local.hour < 20:
        return moment
    day = local.date() if local.hour >= 20 else local.date() - timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def _gap_range(action: str, urgent: bool) -> tuple[int, int]:
    return URGENT_GAPS.get(action, GAPS[action]) if urgent else GAPS[action]


def _actor_and_reason(
    ctx: DemoContext, action: str, status: Status, people: People, worker: User | None
) -> tuple[User, str | None]:
    rng = ctx.rng
    if action in ("assign", "close"):
        return people.dispatcher, None
    if action == "cancel":
        if people.creator_is_customer and status in (S.NEW, S.ASSIGNED) and rng.random() < 0.6:
            return people.creator, rng.choice(CUSTOMER_CANCEL_REASONS)
        return people.dispatcher, rng.choice(CANCEL_REASONS)
    assert worker is not None, f"{action} needs a technician"
    reason = None
    if action == "decline":
        reason = rng.choice(DECLINE_REASONS)
    elif action == "pause":
        reason = rng.choice(PAUSE_REASONS)
    return worker, reason
