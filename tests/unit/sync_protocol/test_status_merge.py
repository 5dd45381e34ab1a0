"""The status merge policy: every precedence row, no illegal status, and convergence."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync_protocol.hlc import HLC
from sync_protocol.merge import Outcome
from sync_protocol.status_merge import (
    RANK,
    Kept,
    OrderStatusState,
    StatusDecision,
    TransitionIntent,
    decide,
)
from sync_protocol.workorder_status import (
    ACTIVE,
    RULES,
    Action,
    Party,
    Status,
    allowed_actions,
    plan,
)

T1, T2 = uuid.UUID(int=0x71), uuid.UUID(int=0x72)
FAST = settings(max_examples=200, deadline=None)
NEEDS_ASSIGNEE = frozenset(RANK)  # assigned … closed


def at(ms: int, node: str = "dev") -> HLC:
    return HLC(ms, 0, node)


def state(
    status: Status, assignee: uuid.UUID | None = T1, ms: int | None = 100
) -> OrderStatusState:
    return OrderStatusState(status, assignee, at(ms, "server") if ms is not None else None)


def tech(action: Action, base: Status, ms: int = 200, actor: uuid.UUID = T1) -> TransitionIntent:
    return TransitionIntent(action, Party.ASSIGNEE, base, at(ms), actor_id=actor)


def office(action: Action, base: Status, assignee: uuid.UUID | None = None) -> TransitionIntent:
    return TransitionIntent(action, Party.OFFICE, base, at(300, "server"), assignee_id=assignee)


def check_decision(before: OrderStatusState, decision: StatusDecision) -> None:
    """What must hold for every decision, whatever the inputs."""
    after = decision.state
    assert isinstance(after.status, Status)
    if decision.plan is None:
        assert after.status is before.status and after.assignee_id == before.assignee_id
        assert decision.outcome in (Outcome.DUPLICATE, Outcome.CONFLICT, Outcome.REJECTED)
    else:
        step = decision.plan
        assert step.from_status is before.status and step.to_status is after.status
        rule = RULES[step.action]
        in_table = step.from_status in rule.sources and step.to_status in (
            rule.target,
            rule.target_if_assigned,
        )
        # The only two steps replay may take outside the table (PROTOCOL.md § 8.1).
        completion = step.action is Action.COMPLETE and step.from_status in ACTIVE
        restart = (step.action, step.from_status) == (Action.START_WORK, Status.PAUSED)
        assert in_table or completion or restart, step
        assert decision.outcome in (Outcome.APPLIED, Outcome.MERGED, Outcome.CONFLICT)
    if decision.outcome is Outcome.REJECTED:
        assert decision.code in (
            "sync.illegal_transition",
            "sync.transition_forbidden",
            "sync.missing_field",
        )
    if decision.outcome is Outcome.CONFLICT:
        assert decision.conflict is not None and decision.code == decision.conflict.code
        assert decision.code in ("sync.concurrent_status", "sync.reassigned")
        if decision.conflict.kept is Kept.DEVICE:
            assert decision.plan is not None and decision.plan.action is Action.COMPLETE
    if after.status in NEEDS_ASSIGNEE:
        assert after.assignee_id is not None
    if after.status is Status.NEW:
        assert after.assignee_id is None


@pytest.mark.parametrize(
    ("before", "intent", "outcome", "status_after", "code"),
    [
        # rows 1-2: invalid in itself
        (state(Status.COMPLETED), tech(Action.CLOSE, Status.COMPLETED), Outcome.REJECTED,
         Status.COMPLETED, "sync.transition_forbidden"),
        (state(Status.ON_SITE), tech(Action.ARRIVE, Status.ON_SITE), Outcome.REJECTED,
         Status.ON_SITE, "sync.illegal_transition"),
        # rows 3-5: the office acts online
        (state(Status.IN_PROGRESS), office(Action.CANCEL, Status.IN_PROGRESS), Outcome.APPLIED,
         Status.CANCELLED, None),
        (state(Status.CANCELLED), office(Action.CANCEL, Status.IN_PROGRESS), Outcome.DUPLICATE,
         Status.CANCELLED, None),
        (state(Status.COMPLETED), office(Action.CANCEL, Status.IN_PROGRESS), Outcome.REJECTED,
         Status.COMPLETED, "sync.illegal_transition"),
        (state(Status.ACCEPTED),
         TransitionIntent(Action.CANCEL, Party.CUSTOMER, Status.ASSIGNED, at(5)), Outcome.REJECTED,
         Status.ACCEPTED, "sync.transition_forbidden"),
        # rows 6-8: decline
        (state(Status.ASSIGNED, T2), tech(Action.DECLINE, Status.ASSIGNED), Outcome.DUPLICATE,
         Status.ASSIGNED, None),
        (state(Status.ASSIGNED), tech(Action.DECLINE, Status.ASSIGNED), Outcome.APPLIED,
         Status.NEW, None),
        (state(Status.ACCEPTED), tech(Action.DECLINE, Status.ASSIGNED), Outcome.CONFLICT,
         Status.ACCEPTED, "sync.concurrent_status"),
        # row 9: cancelled while offline, complete included
        (state(Status.CANCELLED), tech(Action.COMPLETE, Status.IN_PROGRESS), Outcome.CONFLICT,
         Status.CANCELLED, "sync.concurrent_status"),
        (state(Status.CANCELLED), tech(Action.ARRIVE, Status.EN_ROUTE), Outcome.CONFLICT,
         Status.CANCELLED, "sync.concurrent_status"),
        # rows 10-11: reassigned while offline
        (state(Status.ASSIGNED, T2), tech(Action.COMPLETE, Status.IN_PROGRESS), Outcome.CONFLICT,
         Status.COMPLETED, "sync.reassigned"),
        (state(Status.NEW, None), tech(Action.COMPLETE, Status.IN_PROGRESS), Outcome.CONFLICT,
         Status.COMPLETED, "sync.reassigned"),
        (state(Status.ASSIGNED, T2), tech(Action.START_WORK, Status.ON_SITE), Outcome.CONFLICT,
         Status.ASSIGNED, "sync.reassigned"),
        (state(Status.COMPLETED, T2), tech(Action.COMPLETE, Status.IN_PROGRESS), Outcome.CONFLICT,
         Status.COMPLETED, "sync.reassigned"),
        # rows 12-15: completing one's own job
        (state(Status.COMPLETED), tech(Action.COMPLETE, Status.IN_PROGRESS), Outcome.DUPLICATE,
         Status.COMPLETED, None),
        (state(Status.IN_PROGRESS), tech(Action.COMPLETE, Status.IN_PROGRESS), Outcome.APPLIED,
         Status.COMPLETED, None),
        (state(Status.PAUSED), tech(Action.COMPLETE, Status.IN_PROGRESS), Outcome.MERGED,
         Status.COMPLETED, None),
        (state(Status.ASSIGNED), tech(Action.COMPLETE, Status.IN_PROGRESS), Outcome.CONFLICT,
         Status.COMPLETED, "sync.concurrent_status"),
        # rows 16-20: other steps on one's own job
        (state(Status.ON_SITE), tech(Action.ARRIVE, Status.EN_ROUTE), Outcome.DUPLICATE,
         Status.ON_SITE, None),
        (state(Status.COMPLETED), tech(Action.PAUSE, Status.IN_PROGRESS), Outcome.DUPLICATE,
         Status.COMPLETED, None),
        (state(Status.PAUSED, ms=500), tech(Action.RESUME, Status.PAUSED, ms=400),
         Outcome.DUPLICATE, Status.PAUSED, None),
        (state(Status.PAUSED, ms=300), tech(Action.RESUME, Status.PAUSED, ms=400),
         Outcome.APPLIED, Status.IN_PROGRESS, None),
        (state(Status.PAUSED, ms=300), tech(Action.START_WORK, Status.ON_SITE, ms=400),
         Outcome.MERGED, Status.IN_PROGRESS, None),
        (state(Status.EN_ROUTE), tech(Action.ARRIVE, Status.EN_ROUTE), Outcome.APPLIED,
         Status.ON_SITE, None),
        (state(Status.ASSIGNED), tech(Action.ARRIVE, Status.EN_ROUTE), Outcome.CONFLICT,
         Status.ASSIGNED, "sync.concurrent_status"),
    ],
)  # fmt: skip
def test_each_precedence_row_of_the_spec(
    before: OrderStatusState,
    intent: TransitionIntent,
    outcome: Outcome,
    status_after: Status,
    code: str | None,
) -> None:
    decision = decide(before, intent)
    check_decision(before, decision)
    assert (decision.outcome, decision.state.status, decision.code) == (
        outcome,
        status_after,
        code,
    )


def test_complete_versus_cancel_keeps_the_cancellation_and_both_values() -> None:
    decision = decide(state(Status.CANCELLED), tech(Action.COMPLETE, Status.IN_PROGRESS))
    assert decision.conflict is not None
    assert (decision.conflict.field, decision.conflict.kept) == ("status", Kept.SERVER)
    assert (decision.conflict.server_value, decision.conflict.device_value) == (
        "cancelled",
        "completed",
    )


def test_a_completion_after_a_reassignment_wins_and_restores_the_technician() -> None:
    decision = decide(state(Status.ASSIGNED, T2), tech(Action.COMPLETE, Status.IN_PROGRESS))
    assert decision.state.assignee_id == T1
    assert decision.plan is not None and decision.plan.stamp == "completed_at"
    assert decision.conflict is not None
    assert (decision.conflict.field, decision.conflict.kept) == ("assignee_id", Kept.DEVICE)
    assert (decision.conflict.server_value, decision.conflict.device_value) == (str(T2), str(T1))


def test_the_office_assigning_names_the_new_assignee_and_reopen_returns_to_them() -> None:
    assigned = decide(state(Status.NEW, None), office(Action.ASSIGN, Status.NEW, T2))
    assert (assigned.outcome, assigned.state.assignee_id) == (Outcome.APPLIED, T2)
    reopened = decide(state(Status.CANCELLED), office(Action.REOPEN, Status.CANCELLED))
    assert reopened.state.status is Status.ASSIGNED


# Any sequence, any party: never a status outside the machine.
intents = st.builds(
    TransitionIntent,
    st.sampled_from(list(Action)),
    st.sampled_from(list(Party)),
    st.sampled_from(list(Status)),
    st.builds(at, st.integers(0, 1_000), st.sampled_from(["a", "b", "server"])),
    st.sampled_from([T1, T2, None]),
    st.sampled_from([T1, T2, None]),
)


@FAST
@given(st.lists(intents, max_size=40))
def test_no_sequence_of_transitions_leaves_the_machine(sequence: list[TransitionIntent]) -> None:
    current = OrderStatusState(Status.NEW, None)
    for intent in sequence:
        decision = decide(current, intent)
        check_decision(current, decision)
        current = decision.state


# One technician's two devices: the result depends on the set, not the delivery order.
@st.composite
def field_path(draw: Any, node: str) -> list[TransitionIntent]:
    """A device's own valid walk along the field path (no decline), with its clock's HLCs."""
    status, ms = Status.ASSIGNED, draw(st.integers(0, 10_000))
    steps: list[TransitionIntent] = []
    for _ in range(draw(st.integers(0, 9))):
        options = [a for a in allowed_actions(status, Party.ASSIGNEE) if a is not Action.DECLINE]
        if not options:  # completed: the technician's part is over
            break
        action = draw(st.sampled_from(options))
        ms += draw(st.integers(0, 5_000))
        steps.append(
            TransitionIntent(action, Party.ASSIGNEE, status, HLC(ms, len(steps), node), T1)
        )
        status = plan(status, action, Party.ASSIGNEE, has_assignee=True).to_status
    return steps


class Server:
    """A model of the push engine: exactly once by (device, seq), then :func:`decide`."""

    def __init__(self, current: OrderStatusState) -> None:
        self.state = current
        self.receipts: dict[tuple[str, int], Outcome] = {}
        self.conflicts: list[tuple[tuple[str, int], Kept]] = []

    def deliver(self, key: tuple[str, int], intent: TransitionIntent) -> Outcome:
        if key in self.receipts:
            return self.receipts[key]
        decision = decide(self.state, intent)
        check_decision(self.state, decision)
        self.state = decision.state
        self.receipts[key] = decision.outcome
        if decision.conflict is not None:
            self.conflicts.append((key, decision.conflict.kept))
        return decision.outcome


@st.composite
def deliveries(draw: Any, queues: dict[str, list[TransitionIntent]]) -> list[tuple[str, int]]:
    """An interleaving that keeps each device's order, with random re-deliveries."""
    cursor = dict.fromkeys(queues, 0)
    sent: list[tuple[str, int]] = []
    while any(cursor[d] < len(queues[d]) for d in queues):
        if sent and draw(st.integers(0, 4)) == 0:
            sent.append(draw(st.sampled_from(sent)))  # a retry after a lost response
            continue
        device = draw(st.sampled_from(sorted(d for d in queues if cursor[d] < len(queues[d]))))
        sent.append((device, cursor[device]))
        cursor[device] += 1
    return sent


def run(
    start: OrderStatusState, queues: dict[str, list[TransitionIntent]], order: list[tuple[str, int]]
) -> Server:
    server = Server(start)
    for device, index in order:
        server.deliver((device, index), queues[device][index])
    return server


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_one_technicians_devices_converge_whatever_the_delivery_order(data: st.DataObject) -> None:
    queues = {"phone": data.draw(field_path("phone")), "tablet": data.draw(field_path("tablet"))}
    start = OrderStatusState(Status.ASSIGNED, T1, HLC(0, 0, "server"))
    first = run(start, queues, data.draw(deliveries(queues)))
    second = run(start, queues, data.draw(deliveries(queues)))
    assert first.state.status is second.state.status
    assert first.conflicts == second.conflicts == []
    assert Outcome.REJECTED not in first.receipts.values()
    every = [intent for queue in queues.values() for intent in queue]
    top = max([1, *(RANK[RULES[i.action].target] for i in every)])
    assert RANK[first.state.status] == top
    if top == 5:  # the in_progress/paused register holds its latest write
        latest = max((i for i in every if RANK[RULES[i.action].target] == 5), key=lambda i: i.hlc)
        assert first.state.status is RULES[latest.action].target


@settings(max_examples=200, deadline=None)
@given(st.data(), st.sampled_from(["cancel", "reassign", "unassign"]))
def test_offline_work_after_an_office_change_yields_the_same_result_in_any_order(
    data: st.DataObject, change: str
) -> None:
    queues = {"phone": data.draw(field_path("phone")), "tablet": data.draw(field_path("tablet"))}
    after = {
        "cancel": OrderStatusState(Status.CANCELLED, T1, HLC(1, 0, "server")),
        "reassign": OrderStatusState(Status.ASSIGNED, T2, HLC(1, 0, "server")),
        "unassign": OrderStatusState(Status.NEW, None, HLC(1, 0, "server")),
    }[change]
    first = run(after, queues, data.draw(deliveries(queues)))
    second = run(after, queues, data.draw(deliveries(queues)))
    assert (first.state.status, first.state.assignee_id) == (
        second.state.status,
        second.state.assignee_id,
    )
    completes = any(i.action is Action.COMPLETE for q in queues.values() for i in q)
    kept_device = [key for key, kept in first.conflicts if kept is Kept.DEVICE]
    if change == "cancel":
        assert first.state.status is Status.CANCELLED
        assert sorted(first.conflicts) == sorted(second.conflicts)
        assert len(first.conflicts) == sum(len(q) for q in queues.values())
    elif completes:
        assert (first.state.status, first.state.assignee_id) == (Status.COMPLETED, T1)
        assert len(kept_device) == 1
    else:
        assert first.state == after and kept_device == []
    assert Outcome.REJECTED not in first.receipts.values()


def test_a_replayed_transition_is_a_duplicate_not_a_second_change() -> None:
    first = decide(state(Status.EN_ROUTE), tech(Action.ARRIVE, Status.EN_ROUTE))
    again = decide(first.state, tech(Action.ARRIVE, Status.EN_ROUTE))
    assert (first.outcome, again.outcome) == (Outcome.APPLIED, Outcome.DUPLICATE)
    assert again.state == first.state


def test_the_working_register_takes_a_newer_duplicate_as_its_clock() -> None:
    current = state(Status.PAUSED, ms=300)
    bumped = decide(current, tech(Action.PAUSE, Status.IN_PROGRESS, ms=900))
    assert bumped.outcome is Outcome.DUPLICATE and bumped.state == replace(
        current, status_hlc=at(900)
    )
    assert decide(bumped.state, tech(Action.RESUME, Status.PAUSED, ms=800)).outcome is (
        Outcome.DUPLICATE
    )
