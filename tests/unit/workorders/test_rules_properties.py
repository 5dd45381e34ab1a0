"""Property test: any sequence of (action, role, is_assignee) from ``new`` stays inside
the contract. Hypothesis drives a model order through the rules and checks every
step, successful or refused, against the transcribed contract table."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from api.auth.permissions import Role
from api.workorders.errors import IllegalTransition, TransitionForbidden
from api.workorders.rules import Action, allowed_actions, plan_transition
from api.workorders.states import Status
from tests.unit.workorders.contract_table import OFFICE_ROLES, TABLE, may

TERMINAL = {Status.CLOSED, Status.CANCELLED}
# Between assignment and completion someone is always responsible for the job.
NEEDS_ASSIGNEE = {
    Status.ASSIGNED,
    Status.ACCEPTED,
    Status.EN_ROUTE,
    Status.ON_SITE,
    Status.IN_PROGRESS,
    Status.PAUSED,
    Status.COMPLETED,
    Status.CLOSED,
}


class WorkOrderLife(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.status = Status.NEW
        self.has_assignee = False
        self.taken = 0

    @rule(
        action=st.sampled_from(list(Action)),
        role=st.sampled_from(list(Role)),
        is_assignee=st.booleans(),
    )
    def attempt_anything(self, action: Action, role: Role, is_assignee: bool) -> None:
        self._attempt(action, role, self._effective(role, is_assignee))

    @rule(data=st.data(), role=st.sampled_from(list(Role)), is_assignee=st.booleans())
    def take_an_offered_action(self, data: st.DataObject, role: Role, is_assignee: bool) -> None:
        # Random actions are mostly illegal; following the offered ones walks deep
        # into the machine (completed, closed, reopened) where the rare rows live.
        is_assignee = self._effective(role, is_assignee)
        offered = allowed_actions(self.status, role, is_assignee)
        if offered:
            self._attempt(data.draw(st.sampled_from(offered)), role, is_assignee)

    def _effective(self, role: Role, is_assignee: bool) -> bool:
        # Only an order with an assignee can have the caller as its assignee.
        return is_assignee and self.has_assignee and role is Role.TECHNICIAN

    def _attempt(self, action: Action, role: Role, is_assignee: bool) -> None:
        sources, target, _ = TABLE[action.value]
        before = self.status
        try:
            plan = plan_transition(
                before, action, role, is_assignee=is_assignee, has_assignee=self.has_assignee
            )
        except IllegalTransition as refused:
            assert before not in sources
            assert refused.extra["current_status"] == before.value
            for name in refused.extra["allowed_actions"]:
                assert before in TABLE[name][0]
            return
        except TransitionForbidden:
            assert before in sources
            assert not may(action.value, before, role, is_assignee=is_assignee)
            return
        assert before in sources
        assert may(action.value, before, role, is_assignee=is_assignee)
        if action is Action.REOPEN and self.has_assignee:
            target = Status.ASSIGNED
        assert plan.to_status is target
        self.status = plan.to_status
        if action is Action.ASSIGN:
            self.has_assignee = True
        elif action in (Action.UNASSIGN, Action.DECLINE):
            self.has_assignee = False
        self.taken += 1

    @precondition(lambda self: self.status in TERMINAL)
    @rule(role=st.sampled_from(list(Role)))
    def only_reopen_leaves_a_terminal_status(self, role: Role) -> None:
        expected = [Action.REOPEN] if role in OFFICE_ROLES else []
        for is_assignee in (False, True):
            assert allowed_actions(self.status, role, is_assignee) == expected

    @invariant()
    def status_is_a_known_status(self) -> None:
        assert isinstance(self.status, Status)

    @invariant()
    def the_office_is_never_stuck(self) -> None:
        assert allowed_actions(self.status, Role.DISPATCHER, False)

    @invariant()
    def an_active_job_always_has_an_assignee(self) -> None:
        if self.status in NEEDS_ASSIGNEE:
            assert self.has_assignee
        if self.status is Status.NEW:
            assert not self.has_assignee

    @invariant()
    def allowed_actions_are_exactly_the_ones_that_would_succeed(self) -> None:
        for role in Role:
            for is_assignee in (False, True) if role is Role.TECHNICIAN else (False,):
                allowed = allowed_actions(self.status, role, is_assignee)
                for action in Action:
                    sources = TABLE[action.value][0]
                    would = self.status in sources and may(
                        action.value, self.status, role, is_assignee=is_assignee
                    )
                    assert (action in allowed) == would


WorkOrderLife.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
test_work_order_life = WorkOrderLife.TestCase
