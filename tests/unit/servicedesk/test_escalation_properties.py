"""The escalations that fire equal those of a brute-force oracle, over random timelines.

The system under test is what the server does: after every change it plans
the order's next check (:func:`upcoming`), and the sweep, run when a check comes
due, fires what is due and plans again. The oracle knows nothing of planning:
it walks the timeline in 30-second steps, counts for each rule the running
(unpaused, and for business time in-hours) seconds since its start, and fires a
rule the first step its count has reached the threshold while its condition
holds and the order is neither paused nor finished.

Both say *when* each rule fired. Events fall on half minutes and the oracle
counts in 30-second steps, so every due time is a step; when a due time and an
event coincide, the sweep goes first, and what an event makes hold fires at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from api.servicedesk.calendar import Calendar
from api.servicedesk.escalation_rules import Rule, Timing, holds, upcoming
from api.servicedesk.sla import Clock

CREATED = int(datetime(2026, 3, 2, 0, 30, tzinfo=UTC).timestamp())  # Monday 08:30 Shanghai
HORIZON = CREATED + 6 * 86400
STEP = 30
OFFICE = Calendar("Asia/Shanghai", {d: ((540, 1080),) for d in range(5)})
ALWAYS = Calendar("UTC", {d: ((0, 1440),) for d in range(7)})
SHANGHAI = ZoneInfo("Asia/Shanghai")
TARGETS = {"first_response": 120, "resolution": 960}  # multiples of 4 (75 % = whole minutes)

CONDITIONS = [
    {},
    {"in": [{"var": "status"}, ["new"]]},
    {"==": [{"var": "priority"}, "urgent"]},
]
EVENTS = ("accept", "complete", "pause", "resume", "urgent", "calm")


@st.composite
def rules(draw: st.DrawFn) -> list[Rule]:
    made = []
    for n in range(draw(st.integers(1, 4))):
        trigger = draw(st.sampled_from(["created", "status", "sla"]))
        common: dict[str, Any] = {
            "id": n,
            "name": f"r{n}",
            "level": draw(st.sampled_from([1, 2, 3])),
            "logic": draw(st.sampled_from(CONDITIONS)),
            "trigger": trigger,
            "action": "notify_managers",
        }
        if trigger == "sla":
            common["sla_target"] = draw(st.sampled_from(sorted(TARGETS)))
            common["percent"] = draw(st.sampled_from([50, 75, 100, 150]))
        else:
            common["minutes"] = draw(st.integers(0, 1500) | st.integers(0, 120))
            common["business_time"] = draw(st.booleans())
        made.append(Rule(**common))
    return made


@st.composite
def timelines(draw: st.DrawFn) -> list[tuple[int, str]]:
    """Events on half minutes, most in the first day, with pauses that end more often than not."""
    events: dict[int, str] = {}
    for _ in range(draw(st.integers(0, 2))):
        start = draw(st.integers(0, 1440))
        events[start] = "pause"
        events[start + draw(st.integers(1, 900))] = "resume"
    for m in draw(st.lists(st.integers(0, 2 * 1440), max_size=5)):
        events[m] = draw(st.sampled_from(EVENTS))
    return [(CREATED + m * 60 + 30, event) for m, event in sorted(events.items())]


@dataclass
class Order:
    status: str = "new"
    priority: str = "medium"
    status_since: int = CREATED
    pauses: list[tuple[int, int | None]] = field(default_factory=list)
    met: set[str] = field(default_factory=set)

    @property
    def paused(self) -> bool:
        return any(end is None for _, end in self.pauses)

    @property
    def finished(self) -> bool:
        return self.status == "completed"

    def apply(self, at: int, event: str) -> None:
        if self.finished:
            return
        if event == "accept" and self.status == "new":
            self.status, self.status_since = "accepted", at
            self.met.add("first_response")
        elif event == "complete":
            self.status, self.status_since = "completed", at
        elif event == "pause" and not self.paused:
            self.pauses.append((at, None))
        elif event == "resume" and self.paused:
            self.pauses[-1] = (self.pauses[-1][0], at)
        elif event in ("urgent", "calm"):
            self.priority = "urgent" if event == "urgent" else "medium"

    def facts(self) -> dict[str, Any]:
        return {"status": self.status, "priority": self.priority}


def system(rule_set: list[Rule], timeline: list[tuple[int, str]]) -> dict[Any, int]:
    """Plan after each change, sweep when the plan says: what the server does.

    Returns when each rule fired (the sweep's time: its due time, or the change
    that made an overdue rule hold)."""
    order, fired = Order(), {}
    clock = [CREATED]
    wall, business = Clock(ALWAYS), Clock(OFFICE)

    def planned() -> list[tuple[Rule, int]]:
        timing = Timing(
            created=CREATED,
            status_since=order.status_since,
            pauses=list(order.pauses),
            wall=wall,
            business=business,
            sla=business,
            targets=TARGETS,
            met=frozenset(order.met),
        )
        keys = {(r.id, r.level) for r in rule_set if r.id in fired}
        return upcoming(rule_set, order.facts(), [], timing, keys, finished=order.finished)

    def sweep_until(limit: int) -> None:
        while True:
            plan = planned()
            if not plan or plan[0][1] > limit:
                return
            now = max(plan[0][1], clock[0])
            for rule, at in plan:
                if at <= now and holds(rule, order.facts(), []):
                    fired[rule.id] = now

    for at, event in [*timeline, (HORIZON, "end")]:
        sweep_until(min(at, HORIZON))
        order.apply(at, event)
        clock[0] = at
    return fired


def oracle(rule_set: list[Rule], timeline: list[tuple[int, str]]) -> dict[Any, int]:
    """Thirty seconds at a time, counting and checking every rule, the slow way."""
    order, fired = Order(), {}
    counted = dict.fromkeys((r.id for r in rule_set), 0)
    events = dict(timeline)

    def check(t: int) -> None:
        for rule in rule_set:
            if rule.id in fired or order.finished or order.paused:
                continue
            met = rule.trigger == "sla" and rule.sla_target in order.met
            if not met and counted[rule.id] >= _threshold(rule) and holds(rule, order.facts(), []):
                fired[rule.id] = t

    for t in range(CREATED, HORIZON + 1, STEP):
        check(t)  # the sweep goes first
        status_before = order.status
        if t in events and t < HORIZON:
            order.apply(t, events[t])
            if order.status != status_before:
                for rule in rule_set:
                    if rule.trigger == "status":
                        counted[rule.id] = 0
            check(t)  # what the change made hold fires at once
        for rule in rule_set:
            if not order.paused and _runs(rule, t):
                counted[rule.id] += STEP
    return fired


def _threshold(rule: Rule) -> int:
    if rule.trigger == "sla":
        return math.ceil(TARGETS[rule.sla_target or ""] * 60 * (rule.percent or 0) / 100)
    return (rule.minutes or 0) * 60


def _runs(rule: Rule, t: int) -> bool:
    if not (rule.business_time or rule.trigger == "sla"):
        return True
    local = datetime.fromtimestamp(t, SHANGHAI)
    minute = local.hour * 60 + local.minute
    return any(s <= minute < e for s, e in OFFICE.hours_on(local.date()))


@settings(max_examples=100)
@given(rules(), timelines())
def test_the_fired_escalations_are_the_oracles(
    rule_set: list[Rule], timeline: list[tuple[int, str]]
) -> None:
    assert system(rule_set, timeline) == oracle(rule_set, timeline)


def test_an_example_by_hand_urgent_and_not_accepted_within_four_hours() -> None:
    rule = Rule(
        id="urgent",
        name="紧急未接单",
        level=1,
        logic={"and": [CONDITIONS[1], CONDITIONS[2]]},
        trigger="created",
        action="notify_supervisor",
        minutes=240,
    )
    urgent = [(CREATED + 30, "urgent")]
    assert system([rule], urgent) == oracle([rule], urgent) == {"urgent": CREATED + 4 * 3600}
    accepted_in_time = [*urgent, (CREATED + 3 * 3600 + 30, "accept")]
    assert system([rule], accepted_in_time) == oracle([rule], accepted_in_time) == {}
    business = replace(rule, business_time=True)
    # 08:30 Shanghai: four business hours run 09:00-13:00; accepted at 12:30 is in time.
    late_for_wall = [*urgent, (CREATED + 4 * 3600 + 30, "accept")]
    assert system([business], late_for_wall) == oracle([business], late_for_wall) == {}
    assert (
        system([rule], late_for_wall)
        == oracle([rule], late_for_wall)
        == {"urgent": CREATED + 4 * 3600}
    )
