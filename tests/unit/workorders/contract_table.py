"""The state machine table of the work order contract, transcribed independently of
``api.workorders.rules`` so the tests check the rules against the contract, not against
themselves."""

from __future__ import annotations

from api.auth.permissions import Role
from api.workorders.states import Status as S

OFFICE_ROLES = (Role.ADMIN, Role.DISPATCHER, Role.INTEGRATION)
ACTIVE = frozenset({S.NEW, S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE, S.IN_PROGRESS, S.PAUSED})

# action: (from, to, who). "office": admin/dispatcher/integration only; "field": the
# assigned technician as well. Reopen goes to assigned when the order has an assignee.
TABLE: dict[str, tuple[frozenset[S], S, str]] = {
    "assign": (frozenset({S.NEW, S.ASSIGNED, S.ACCEPTED}), S.ASSIGNED, "office"),
    "unassign": (frozenset({S.ASSIGNED, S.ACCEPTED}), S.NEW, "office"),
    "accept": (frozenset({S.ASSIGNED}), S.ACCEPTED, "field"),
    "decline": (frozenset({S.ASSIGNED}), S.NEW, "field"),
    "start_travel": (frozenset({S.ACCEPTED}), S.EN_ROUTE, "field"),
    "arrive": (frozenset({S.EN_ROUTE}), S.ON_SITE, "field"),
    "start_work": (frozenset({S.ON_SITE}), S.IN_PROGRESS, "field"),
    "pause": (frozenset({S.IN_PROGRESS}), S.PAUSED, "field"),
    "resume": (frozenset({S.PAUSED}), S.IN_PROGRESS, "field"),
    "complete": (frozenset({S.IN_PROGRESS}), S.COMPLETED, "field"),
    "close": (frozenset({S.COMPLETED}), S.CLOSED, "office"),
    "cancel": (ACTIVE, S.CANCELLED, "office"),
    "reopen": (frozenset({S.COMPLETED, S.CLOSED, S.CANCELLED}), S.NEW, "office"),
}
CUSTOMER_MAY_CANCEL_FROM = frozenset({S.NEW, S.ASSIGNED})
NEEDS = {
    "assign": {"assignee_id"},
    "unassign": {"reason"},
    "decline": {"reason"},
    "pause": {"reason"},
    "complete": {"resolution"},
    "cancel": {"reason"},
    "reopen": {"reason"},
}


def may(action: str, status: S, role: Role, *, is_assignee: bool) -> bool:
    """Whether this caller may take a legal action (the contract's "who" column)."""
    who = TABLE[action][2]
    if role in OFFICE_ROLES:
        return True
    if role is Role.TECHNICIAN:
        return who == "field" and is_assignee
    if role is Role.CUSTOMER_CONTACT:
        return action == "cancel" and status in CUSTOMER_MAY_CANCEL_FROM
    return False
