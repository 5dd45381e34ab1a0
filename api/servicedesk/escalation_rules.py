"""Escalation rules as data: which orders, when, and what happens. Pure rules, no I/O.

A rule is a JSON Logic *condition* over the order's facts (those of the priority
rules plus ``priority``, ``status``, ``assigned``, ``complaint`` and
``amount``; ``{}`` matches every order), an optional category (that category
and every one below it), a *trigger* and an *action*:

- ``created``: ``minutes`` after the order was created; ``status``: ``minutes``
  in its current status. Wall-clock minutes, or business minutes on the order's
  calendar with ``business_time`` ("within 4 business hours"). Either way the
  time an order spends paused does not count.
- ``sla``: ``percent`` of an SLA target (``first_response``, ``arrival``,
  ``resolution``) has run, on the SLA clock itself: 75 is a warning, 100 the
  breach. A target that was met, or that the order's policy does not have,
  never fires.

Actions: ``notify_supervisor`` (of the rule's team, else of the assignee's
team), ``notify_managers`` (the tenant's managers), ``notify_assignee``,
``raise_priority`` (one step, never past urgent). Levels 1-3 let one order climb:
a rule fires at most once per order and level, whatever happens after.

"Urgent and not accepted within 4 hours": condition ``{"and": [{"==": [{"var":
"priority"}, "urgent"]}, {"in": [{"var": "status"}, ["new", "assigned"]]}]}``,
trigger ``created`` 240 minutes, action ``notify_supervisor``. The condition is
read again when the time comes, so an order accepted meanwhile is left alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from json_logic import jsonLogic  # type: ignore[import-untyped]

from api.servicedesk.calendar import NoWorkingTime
from api.servicedesk.priority_rules import FACTS as PRIORITY_FACTS
from api.servicedesk.priority_rules import check_logic
from api.servicedesk.sla import Clock, Pause

TRIGGERS = ("created", "status", "sla")
SLA_TARGETS = ("first_response", "arrival", "resolution")
ACTIONS = ("notify_supervisor", "notify_managers", "notify_assignee", "raise_priority")
LEVELS = (1, 2, 3)
FACTS = PRIORITY_FACTS | {"priority", "status", "assigned", "complaint", "amount"}
MAX_MINUTES = 366 * 1440
MAX_PERCENT = 500


@dataclass(frozen=True)
class Rule:
    id: Any
    name: str
    level: int
    logic: Mapping[str, Any]
    trigger: str
    action: str
    minutes: int | None = None
    business_time: bool = False
    sla_target: str | None = None
    percent: int | None = None
    category_id: Any = None
    team_id: Any = None

    @property
    def key(self) -> tuple[Any, int]:
        """What fires once per order."""
        return (self.id, self.level)


@dataclass(frozen=True)
class Timing:
    """An order's clocks, in epoch seconds: everything a trigger needs to say *when*."""

    created: int
    status_since: int
    pauses: Sequence[Pause]
    wall: Clock
    business: Clock
    sla: Clock | None = None  # the SLA policy's calendar; None without a policy
    targets: Mapping[str, int | None] | None = None  # minutes per SLA target
    met: frozenset[str] = frozenset()  # SLA targets met already


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


def check_rule(values: Mapping[str, Any]) -> list[Problem]:
    """Why a rule cannot be saved (empty when it can): every choice is checked now."""
    problems = [Problem("logic", m) for m in condition_problems(values.get("logic") or {})]
    trigger = values.get("trigger")
    if trigger not in TRIGGERS:
        problems.append(Problem("trigger", f"One of {', '.join(TRIGGERS)}"))
    elif trigger == "sla":
        if values.get("sla_target") not in SLA_TARGETS:
            problems.append(Problem("sla_target", f"One of {', '.join(SLA_TARGETS)}"))
        percent = values.get("percent")
        if not isinstance(percent, int) or not 1 <= percent <= MAX_PERCENT:
            problems.append(Problem("percent", f"A whole percentage, 1 to {MAX_PERCENT}"))
        if values.get("minutes") is not None:
            problems.append(Problem("minutes", "An SLA trigger counts in percent, not minutes"))
    else:
        minutes = values.get("minutes")
        if not isinstance(minutes, int) or not 0 <= minutes <= MAX_MINUTES:
            problems.append(Problem("minutes", f"Whole minutes, 0 to {MAX_MINUTES}"))
        if values.get("sla_target") is not None or values.get("percent") is not None:
            problems.append(Problem("sla_target", "Only an SLA trigger names a target"))
    if values.get("action") not in ACTIONS:
        problems.append(Problem("action", f"One of {', '.join(ACTIONS)}"))
    elif values.get("team_id") is not None and values["action"] != "notify_supervisor":
        problems.append(Problem("team_id", "Only notify_supervisor names a team"))
    if values.get("level") not in LEVELS:
        problems.append(Problem("level", "1, 2 or 3"))
    return problems


def condition_problems(logic: Any) -> list[str]:
    if logic == {}:
        return []  # every order
    return list(check_logic(logic, FACTS))


def holds(rule: Rule, facts: Mapping[str, Any], category_ids: Iterable[Any]) -> bool:
    """Whether the rule's category and condition take in this order now.

    A condition that cannot be evaluated on these facts (say, a division by
    zero) does not hold: a bad rule is left unfired, never a crashed worker.
    """
    if rule.category_id is not None and rule.category_id not in set(category_ids):
        return False
    if not rule.logic:
        return True
    try:
        return bool(jsonLogic(dict(rule.logic), dict(facts)))
    except Exception:
        return False


def due_time(rule: Rule, timing: Timing) -> int | None:
    """When the rule's trigger is reached (epoch seconds), or None if it cannot be now.

    None for an open pause before the trigger, an SLA target the order's policy
    lacks or that was met, and a calendar without working time ahead.
    """
    if rule.trigger == "sla":
        minutes = (timing.targets or {}).get(rule.sla_target or "")
        if timing.sla is None or minutes is None or rule.sla_target in timing.met:
            return None
        seconds = math.ceil(minutes * 60 * (rule.percent or 100) / 100)
        return _due(timing.sla, timing.created, seconds, timing.pauses)
    start = timing.created if rule.trigger == "created" else timing.status_since
    clock = timing.business if rule.business_time else timing.wall
    return _due(clock, start, (rule.minutes or 0) * 60, timing.pauses)


def plan(
    rules: Iterable[Rule],
    facts: Mapping[str, Any],
    category_ids: Iterable[Any],
    timing: Timing,
    fired: Iterable[tuple[Any, int]],
) -> list[tuple[Rule, int]]:
    """Each rule not yet fired for this order that takes it in, with its due time, earliest first.

    Run again whenever something a rule reads changes (status, priority,
    category, complaint, amount, pauses, policies), so a due time is always
    that of the order as it is now.
    """
    done = set(fired)
    categories = set(category_ids)
    planned: list[tuple[Rule, int]] = []
    for rule in rules:
        if rule.key in done or not holds(rule, facts, categories):
            continue
        at = due_time(rule, timing)
        if at is not None:
            planned.append((rule, at))
    planned.sort(key=lambda item: (item[1], item[0].level, str(item[0].id)))
    return planned


def upcoming(
    rules: Iterable[Rule],
    facts: Mapping[str, Any],
    category_ids: Iterable[Any],
    timing: Timing,
    fired: Iterable[tuple[Any, int]],
    *,
    finished: bool,
) -> list[tuple[Rule, int]]:
    """:func:`plan` for an order as it stands: nothing for a finished order, nor while
    an open pause stops its clocks (what came due before the pause waits for the resume)."""
    if finished or any(end is None for _, end in timing.pauses):
        return []
    return plan(rules, facts, category_ids, timing, fired)


def raised(priority: str) -> str:
    """One step up: low → medium → high → urgent (urgent stays)."""
    ladder = ("low", "medium", "high", "urgent")
    return ladder[min(ladder.index(priority) + 1, len(ladder) - 1)]


def _due(clock: Clock, start: int, seconds: int, pauses: Sequence[Pause]) -> int | None:
    try:
        return clock.due(start, seconds, pauses)
    except NoWorkingTime:
        return None
