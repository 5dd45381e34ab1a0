"""The work order state machine as the API sees it: roles in, API errors out.

The machine itself — :data:`RULES`, the whole life of a work order in one
table, and the pure functions that read it — lives in
:mod:`sync_protocol.workorder_status`, so the offline client and the sync engine
replay status changes through exactly the same rules. This module adapts it to
the API: it maps a caller's :class:`~api.auth.permissions.Role` to a
:class:`Party` and the protocol's refusals to :class:`IllegalTransition` and
:class:`TransitionForbidden`. Services ask :func:`plan_transition` what an action
would do before touching anything; the API shows :func:`allowed_actions` so a
phone can draw exactly the buttons that will work.

Parties: the *office* (admins, dispatchers, integrations) may take any action
the status allows; the *assigned technician* drives the job in the field; a
*customer contact* may only cancel their own order before anyone sets off.
"""

from __future__ import annotations

from collections.abc import Mapping

from api.auth.permissions import Role
from api.errors.base import FieldProblem
from api.workorders.errors import IllegalTransition, TransitionForbidden
from api.workorders.states import Status
from sync_protocol import workorder_status as machine
from sync_protocol.errors import ProtocolError
from sync_protocol.workorder_status import (
    RULES,
    STAMPS,
    Action,
    AssigneeEffect,
    Party,
    Plan,
    Rule,
    may_take,
)

__all__ = [
    "RULES",
    "STAMPS",
    "Action",
    "AssigneeEffect",
    "Party",
    "Plan",
    "Rule",
    "allowed_actions",
    "field_problems",
    "may_take",
    "party_of",
    "plan_transition",
]

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


def allowed_actions(status: Status, role: Role, is_assignee: bool) -> list[Action]:
    """The actions this caller could take now, in table order."""
    return machine.allowed_actions(status, party_of(role, is_assignee=is_assignee))


def plan_transition(
    status: Status, action: Action, role: Role, *, is_assignee: bool, has_assignee: bool
) -> Plan:
    """What ``action`` does from ``status`` for this caller.

    Raises :class:`IllegalTransition` if the status does not allow the action at
    all (whoever asks), :class:`TransitionForbidden` if it does but not for them.
    """
    party = party_of(role, is_assignee=is_assignee)
    try:
        return machine.plan(status, action, party, has_assignee=has_assignee)
    except ProtocolError as refused:
        if refused.code == "sync.illegal_transition":
            # "current_status", not "status": RFC 9457 already uses "status" for the HTTP code.
            raise IllegalTransition(extra=dict(refused.extra)) from None
        if refused.code == "sync.transition_forbidden":
            raise TransitionForbidden() from None
        raise


def field_problems(action: Action, given: Mapping[str, object]) -> list[FieldProblem]:
    """Request fields the action needs but lacks (blank counts as missing), or may not take."""
    return [
        FieldProblem(issue.field, issue.code, issue.message)
        for issue in machine.field_issues(action, given)
    ]
