"""The work order state machine as data, and the pure functions that read it.

:data:`RULES` is the whole life of a work order in one table: for each action,
the statuses it may start from, where it leads, which parties may take it and
which request fields it needs. Services ask :func:`plan_transition` what an
action would do before touching anything; the API shows :func:`allowed_actions`
so a phone can draw exactly the buttons that will work. No I/O here, so the
sync engine can replay offline status changes through the same rules.

Parties: the *office* (admins, dispatchers, integrations) may take any action
the status allows; the *assigned technician* drives the job in the field; a
*customer contact* may only cancel their own order before anyone sets off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from api.auth.permissions import Role
from api.errors.base import FieldProblem
from api.workorders.errors import IllegalTransition, TransitionForbidden
from api.workorders.states import Status


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
            frozenset(
                {
                    _S.NEW,
                    _S.ASSIGNED,
                    _S.ACCEPTED,
                    _S.EN_ROUTE,
                    _S.ON_SITE,
                    _S.IN_PROGRESS,
                    _S.PAUSED,
                }
            ),
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

# Request fields that mean something for one action only; sent with another, they
# would be silently dropped, so they are refused instead.
_ONLY_FOR = {"assignee_id": Action.ASSIGN, "resolution": Action.COMPLETE}

_OFFICE_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER, Role.INTEGRATION})


def party_of(role: Role, *, is_assignee: bool) -> Party | None:
    """Which party a caller acts as; a technician who is not the assignee is none."""
    if role in _OFFICE_ROLES:
        return Party.OFFICE
    if role is Role.TECHNICIAN and is_assignee:
        return Party.ASSIGNEE
    if role is Role.CUSTOMER_CONTACT:
        return Party.CUSTOMER
    return None


def may_take(rule: Rule, status: Status, party: Party | None) -> bool:
    if party is Party.CUSTOMER:
        return status in rule.customer_from
    return party is not None and party in rule.parties


def allowed_actions(status: Status, role: Role, is_assignee: bool) -> list[Action]:
    """The actions this caller could take now, in table order."""
    party = party_of(role, is_assignee=is_assignee)
    return [
        action
        for action, rule in RULES.items()
        if status in rule.sources and may_take(rule, status, party)
    ]


def plan_transition(
    status: Status, action: Action, role: Role, *, is_assignee: bool, has_assignee: bool
) -> Plan:
    """What ``action`` does from ``status`` for this caller.

    Raises :class:`IllegalTransition` if the status does not allow the action at
    all (whoever asks), :class:`TransitionForbidden` if it does but not for them.
    """
    rule = RULES[action]
    if status not in rule.sources:
        # "current_status", not "status": RFC 9457 already uses "status" for the HTTP code.
        raise IllegalTransition(
            extra={
                "current_status": status.value,
                "allowed_actions": [a.value for a in allowed_actions(status, role, is_assignee)],
            }
        )
    if not may_take(rule, status, party_of(role, is_assignee=is_assignee)):
        raise TransitionForbidden()
    target = rule.target
    if rule.target_if_assigned is not None and has_assignee:
        target = rule.target_if_assigned
    return Plan(action, status, target, rule.assignee, rule.stamp, rule.clears_stamps)


def field_problems(action: Action, given: Mapping[str, object]) -> list[FieldProblem]:
    """Request fields the action needs but lacks (blank counts as missing), or may not take."""
    problems = [
        FieldProblem(name, "required", f"{action.value} needs {name}")
        for name in RULES[action].needs
        if given.get(name) is None or not str(given[name]).strip()
    ]
    problems += [
        FieldProblem(name, "not_allowed", f"Only {only.value} takes {name}")
        for name, only in _ONLY_FOR.items()
        if given.get(name) is not None and action is not only
    ]
    return problems
