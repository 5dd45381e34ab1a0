"""The work order state machine as data, and the pure functions that read it.

:data:`RULES` is the whole life of a work order in one table: for each action,
the statuses it may start from, where it leads, which parties may take it and
which fields it needs. The server asks :func:`plan` what an action would do
before touching anything; the API and the client SDK show :func:`allowed_actions`
so a phone draws exactly the buttons that will work; the sync engine replays
offline status changes through the same table (see :mod:`sync_protocol.status_merge`).
Client and server import this one module, so they can never disagree.

Parties: the *office* (admins, dispatchers, integrations) may take any action
the status allows; the *assignee* (the assigned technician) drives the job in
the field; a *customer* contact may only cancel their own order before anyone
sets off. Refusals are :class:`~sync_protocol.errors.ProtocolError`
(``sync.illegal_transition``, ``sync.transition_forbidden``); ``api`` maps them
to its own errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from sync_protocol.errors import ProtocolError


class Status(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    COMPLETED = "completed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Action(StrEnum):
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    ACCEPT = "accept"
    DECLINE = "decline"
    START_TRAVEL = "start_travel"
    ARRIVE = "arrive"
    START_WORK = "start_work"
    PAUSE = "pause"
    RESUME = "resume"
    COMPLETE = "complete"
    CLOSE = "close"
    CANCEL = "cancel"
    REOPEN = "reopen"


class Party(StrEnum):
    OFFICE = "office"
    ASSIGNEE = "assignee"
    CUSTOMER = "customer"


class AssigneeEffect(StrEnum):
    KEEP = "keep"
    SET = "set"  # to the request's assignee_id
    CLEAR = "clear"


# Timestamp columns an action stamps; reopening clears all of them.
STAMPS = ("completed_at", "closed_at", "cancelled_at")


class ActualEffect(StrEnum):
    """What a step does to the technician's actuals (``actual_start``/``actual_end``)."""

    FIRST = "first"  # set to the step's time unless already set: work starts once
    SET = "set"  # set to the step's time
    IF_STARTED = "if_started"  # set if the work had started and not ended
    CLEAR = "clear"


# Work starts when the technician starts work on site (arrival is the history's), and
# ends when they complete it, or when the office cancels a job already started.
# Resuming after a pause keeps the start; reopening clears the end (work is not done).
ACTUALS: Mapping[Action, tuple[tuple[str, ActualEffect], ...]] = MappingProxyType(
    {
        Action.START_WORK: (("actual_start", ActualEffect.FIRST),),
        Action.COMPLETE: (("actual_end", ActualEffect.SET),),
        Action.CANCEL: (("actual_end", ActualEffect.IF_STARTED),),
        Action.REOPEN: (("actual_end", ActualEffect.CLEAR),),
    }
)

ACTIVE = frozenset(
    {
        Status.NEW,
        Status.ASSIGNED,
        Status.ACCEPTED,
        Status.EN_ROUTE,
        Status.ON_SITE,
        Status.IN_PROGRESS,
        Status.PAUSED,
    }
)


@dataclass(frozen=True)
class Rule:
    """One row of the table. ``customer_from`` lists where a customer contact may act."""

    sources: frozenset[Status]
    target: Status
    parties: frozenset[Party]
    needs: tuple[str, ...] = ()
    customer_from: frozenset[Status] = frozenset()
    target_if_assigned: Status | None = None
    assignee: AssigneeEffect = AssigneeEffect.KEEP
    stamp: str | None = None
    clears_stamps: bool = False


@dataclass(frozen=True)
class Plan:
    """What a permitted action will do to an order."""

    action: Action
    from_status: Status
    to_status: Status
    assignee: AssigneeEffect
    stamp: str | None
    clears_stamps: bool


@dataclass(frozen=True)
class FieldIssue:
    """A field an action needs but lacks (``required``) or may not take (``not_allowed``)."""

    field: str
    code: str
    message: str


_S = Status
_OFFICE = frozenset({Party.OFFICE})
_FIELD = frozenset({Party.OFFICE, Party.ASSIGNEE})

RULES: Mapping[Action, Rule] = MappingProxyType(
    {
        Action.ASSIGN: Rule(
            frozenset({_S.NEW, _S.ASSIGNED, _S.ACCEPTED}),
            _S.ASSIGNED,
            _OFFICE,
            needs=("assignee_id",),
            assignee=AssigneeEffect.SET,
        ),
        Action.UNASSIGN: Rule(
            frozenset({_S.ASSIGNED, _S.ACCEPTED}),
            _S.NEW,
            _OFFICE,
            needs=("reason",),
            assignee=AssigneeEffect.CLEAR,
        ),
        Action.ACCEPT: Rule(frozenset({_S.ASSIGNED}), _S.ACCEPTED, _FIELD),
        Action.DECLINE: Rule(
            frozenset({_S.ASSIGNED}),
            _S.NEW,
            _FIELD,
            needs=("reason",),
            assignee=AssigneeEffect.CLEAR,
        ),
        Action.START_TRAVEL: Rule(frozenset({_S.ACCEPTED}), _S.EN_ROUTE, _FIELD),
        Action.ARRIVE: Rule(frozenset({_S.EN_ROUTE}), _S.ON_SITE, _FIELD),
        Action.START_WORK: Rule(frozenset({_S.ON_SITE}), _S.IN_PROGRESS, _FIELD),
        Action.PAUSE: Rule(frozenset({_S.IN_PROGRESS}), _S.PAUSED, _FIELD, needs=("reason",)),
        Action.RESUME: Rule(frozenset({_S.PAUSED}), _S.IN_PROGRESS, _FIELD),
        Action.COMPLETE: Rule(
            frozenset({_S.IN_PROGRESS}),
            _S.COMPLETED,
            _FIELD,
            needs=("resolution",),
            stamp="completed_at",
        ),
        Action.CLOSE: Rule(frozenset({_S.COMPLETED}), _S.CLOSED, _OFFICE, stamp="closed_at"),
        Action.CANCEL: Rule(
            ACTIVE,
            _S.CANCELLED,
            _OFFICE,
            needs=("reason",),
            customer_from=frozenset({_S.NEW, _S.ASSIGNED}),
            stamp="cancelled_at",
        ),
        Action.REOPEN: Rule(
            frozenset({_S.COMPLETED, _S.CLOSED, _S.CANCELLED}),
            _S.NEW,
            _OFFICE,
            needs=("reason",),
            target_if_assigned=_S.ASSIGNED,
            clears_stamps=True,
        ),
    }
)

# Fields that mean something for one action only; sent with another, they would
# be silently dropped, so they are refused instead.
ONLY_FOR: Mapping[str, Action] = MappingProxyType(
    {"assignee_id": Action.ASSIGN, "resolution": Action.COMPLETE}
)


def may_take(rule: Rule, status: Status, party: Party | None) -> bool:
    """Whether ``party`` may take ``rule``'s action from ``status`` (if the status allows it)."""
    if party is Party.CUSTOMER:
        return status in rule.customer_from
    return party is not None and party in rule.parties


def allowed_actions(status: Status, party: Party | None) -> list[Action]:
    """The actions this party could take now, in table order."""
    return [
        action
        for action, rule in RULES.items()
        if status in rule.sources and may_take(rule, status, party)
    ]


def plan(status: Status, action: Action, party: Party | None, *, has_assignee: bool) -> Plan:
    """What ``action`` does from ``status`` for ``party``.

    Raises ``sync.illegal_transition`` (with ``current_status`` and this party's
    ``allowed_actions``) if the status does not allow the action for anyone, and
    ``sync.transition_forbidden`` if it does but not for this party.
    """
    rule = RULES[action]
    if status not in rule.sources:
        raise ProtocolError(
            "sync.illegal_transition",
            f"{action.value} is not possible from {status.value}",
            extra={
                "current_status": status.value,
                "allowed_actions": [a.value for a in allowed_actions(status, party)],
            },
        )
    if not may_take(rule, status, party):
        raise ProtocolError(
            "sync.transition_forbidden",
            f"{party.value if party else 'this caller'} may not {action.value}",
        )
    target = rule.target
    if rule.target_if_assigned is not None and has_assignee:
        target = rule.target_if_assigned
    return Plan(action, status, target, rule.assignee, rule.stamp, rule.clears_stamps)


def field_issues(action: Action, given: Mapping[str, object]) -> list[FieldIssue]:
    """Fields the action needs but lacks (blank counts as missing), or may not take."""
    issues = [
        FieldIssue(name, "required", f"{action.value} needs {name}")
        for name in RULES[action].needs
        if given.get(name) is None or not str(given[name]).strip()
    ]
    issues += [
        FieldIssue(name, "not_allowed", f"Only {only.value} takes {name}")
        for name, only in ONLY_FOR.items()
        if given.get(name) is not None and action is not only
    ]
    return issues


_Time = TypeVar("_Time")


def actual_writes(
    action: Action, start: _Time | None, end: _Time | None, at: _Time
) -> dict[str, _Time | None]:
    """The actuals a step taken at ``at`` writes, given the order's current ones (:data:`ACTUALS`).

    Time values are opaque: the server passes datetimes, the client SDK wire strings.
    """
    writes: dict[str, _Time | None] = {}
    for name, effect in ACTUALS.get(action, ()):
        current = start if name == "actual_start" else end
        sets = {
            ActualEffect.SET: True,
            ActualEffect.FIRST: current is None,
            ActualEffect.IF_STARTED: start is not None and end is None,
            ActualEffect.CLEAR: False,
        }[effect]
        if sets:
            writes[name] = at
        elif effect is ActualEffect.CLEAR and current is not None:
            writes[name] = None
    return writes
