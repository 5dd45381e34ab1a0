"""The work order state machine, row by row against the contract's table."""

from __future__ import annotations

import pytest

from api.auth.permissions import Role
from api.workorders.errors import IllegalTransition, TransitionForbidden
from api.workorders.rules import (
    RULES,
    Action,
    AssigneeEffect,
    allowed_actions,
    field_problems,
    plan_transition,
)
from api.workorders.states import Status
from tests.unit.workorders.contract_table import (
    CUSTOMER_MAY_CANCEL_FROM,
    NEEDS,
    OFFICE_ROLES,
    TABLE,
)

# Statuses in enum order, never set order: xdist workers must collect the same ids.
LEGAL = [
    (action, status)
    for action, (sources, _, _) in TABLE.items()
    for status in Status
    if status in sources
]
ILLEGAL = [
    (action, status)
    for action, (sources, _, _) in TABLE.items()
    for status in Status
    if status not in sources
]
FIELD_LEGAL = [(a, s) for a, s in LEGAL if TABLE[a][2] == "field"]
OFFICE_ONLY_LEGAL = [(a, s) for a, s in LEGAL if TABLE[a][2] == "office"]


def plan(status: Status, action: str, role: Role = Role.DISPATCHER, **kw: bool):
    kw.setdefault("is_assignee", False)
    kw.setdefault("has_assignee", True)
    return plan_transition(status, Action(action), role, **kw)


def test_the_rules_cover_exactly_the_contract_actions() -> None:
    assert {a.value for a in RULES} == set(TABLE)
    assert {a.value: r.sources for a, r in RULES.items()} == {a: t[0] for a, t in TABLE.items()}


@pytest.mark.parametrize(("action", "status"), LEGAL)
@pytest.mark.parametrize("role", OFFICE_ROLES)
def test_office_roles_may_take_every_legal_action_and_reach_the_contract_target(
    action: str, status: Status, role: Role
) -> None:
    result = plan(status, action, role, has_assignee=False)
    assert result.from_status is status
    assert result.to_status is TABLE[action][1]


@pytest.mark.parametrize(("action", "status"), ILLEGAL)
@pytest.mark.parametrize("role", [*OFFICE_ROLES, Role.TECHNICIAN, Role.CUSTOMER_CONTACT])
def test_an_action_the_status_does_not_allow_is_illegal_for_everyone(
    action: str, status: Status, role: Role
) -> None:
    with pytest.raises(IllegalTransition) as raised:
        plan(status, action, role, is_assignee=True)
    assert raised.value.extra["current_status"] == status.value
    assert raised.value.extra["allowed_actions"] == [
        a.value for a in allowed_actions(status, role, is_assignee=True)
    ]
    assert action not in raised.value.extra["allowed_actions"]


@pytest.mark.parametrize(("action", "status"), FIELD_LEGAL)
def test_field_actions_belong_to_the_assigned_technician_only(action: str, status: Status) -> None:
    assert plan(status, action, Role.TECHNICIAN, is_assignee=True).to_status is TABLE[action][1]
    with pytest.raises(TransitionForbidden):
        plan(status, action, Role.TECHNICIAN, is_assignee=False)
    with pytest.raises(TransitionForbidden):
        plan(status, action, Role.CUSTOMER_CONTACT)


@pytest.mark.parametrize(("action", "status"), OFFICE_ONLY_LEGAL)
def test_office_actions_are_forbidden_to_the_assigned_technician(
    action: str, status: Status
) -> None:
    with pytest.raises(TransitionForbidden):
        plan(status, action, Role.TECHNICIAN, is_assignee=True)


@pytest.mark.parametrize("status", [s for s in Status if s in TABLE["cancel"][0]])
def test_customer_contact_may_cancel_only_before_anyone_accepted(status: Status) -> None:
    if status in CUSTOMER_MAY_CANCEL_FROM:
        assert plan(status, "cancel", Role.CUSTOMER_CONTACT).to_status is Status.CANCELLED
    else:
        with pytest.raises(TransitionForbidden):
            plan(status, "cancel", Role.CUSTOMER_CONTACT)


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.CLOSED, Status.CANCELLED])
def test_reopen_returns_to_the_assignee_if_there_is_one(status: Status) -> None:
    assert plan(status, "reopen", has_assignee=True).to_status is Status.ASSIGNED
    assert plan(status, "reopen", has_assignee=False).to_status is Status.NEW
    assert plan(status, "reopen").clears_stamps


def test_assignee_and_timestamp_effects_follow_the_contract() -> None:
    assert plan(Status.NEW, "assign").assignee is AssigneeEffect.SET
    assert plan(Status.ACCEPTED, "unassign").assignee is AssigneeEffect.CLEAR
    assert plan(Status.ASSIGNED, "decline").assignee is AssigneeEffect.CLEAR
    assert plan(Status.ASSIGNED, "accept").assignee is AssigneeEffect.KEEP
    assert plan(Status.IN_PROGRESS, "complete").stamp == "completed_at"
    assert plan(Status.COMPLETED, "close").stamp == "closed_at"
    assert plan(Status.PAUSED, "cancel").stamp == "cancelled_at"
    assert plan(Status.ON_SITE, "start_work").stamp is None


def test_allowed_actions_are_what_each_caller_would_see() -> None:
    def names(status: Status, role: Role, is_assignee: bool = False) -> list[str]:
        return [a.value for a in allowed_actions(status, role, is_assignee)]

    assert names(Status.NEW, Role.DISPATCHER) == ["assign", "cancel"]
    assert names(Status.ASSIGNED, Role.TECHNICIAN, True) == ["accept", "decline"]
    assert names(Status.ASSIGNED, Role.TECHNICIAN, False) == []
    assert names(Status.IN_PROGRESS, Role.TECHNICIAN, True) == ["pause", "complete"]
    assert names(Status.ASSIGNED, Role.CUSTOMER_CONTACT) == ["cancel"]
    assert names(Status.EN_ROUTE, Role.CUSTOMER_CONTACT) == []
    assert names(Status.COMPLETED, Role.ADMIN) == ["close", "reopen"]
    assert names(Status.CLOSED, Role.INTEGRATION) == ["reopen"]
    assert names(Status.CLOSED, Role.TECHNICIAN, True) == []


@pytest.mark.parametrize("action", list(Action))
def test_each_action_names_the_fields_it_needs(action: Action) -> None:
    needs = NEEDS.get(action.value, set())
    assert {p.field for p in field_problems(action, {})} == needs
    assert all(p.code == "required" for p in field_problems(action, {}))
    complete = {"reason": "r", "resolution": "done", "assignee_id": "t"}
    given = {k: v for k, v in complete.items() if k in needs}
    assert field_problems(action, given) == []


def test_a_blank_reason_counts_as_missing() -> None:
    problems = field_problems(Action.PAUSE, {"reason": "   "})
    assert [(p.field, p.code) for p in problems] == [("reason", "required")]


def test_fields_for_another_action_are_refused_rather_than_dropped() -> None:
    problems = field_problems(Action.ACCEPT, {"resolution": "done", "assignee_id": "t"})
    assert {(p.field, p.code) for p in problems} == {
        ("resolution", "not_allowed"),
        ("assignee_id", "not_allowed"),
    }
    assert field_problems(Action.ACCEPT, {"reason": "happy to"}) == []
