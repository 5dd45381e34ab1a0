"""Running a workflow: which steps are current, who must act, what an action does. Pure.

A run's state is, per step, ``waiting`` (its turn has not come), ``active``
(someone must act) or ``done``, plus for an active approval the indexes of the
approvers who have approved. Rules:

* a step becomes active when every step naming it as ``next`` is done (the
  start steps at once); a step with ``done_when_status`` that becomes active
  while the order already has that status is done at once, and its owner may
  complete it by hand only while the order has that status (after a rejection
  sent the work back to it, say);
* ``complete`` finishes a ``single`` step (its owner acts); ``approve`` records
  one approver of a ``countersign`` (done when every approver has approved) or
  ``any_of`` step (done with the first). One person counts once, even if they
  belong to two of the approvers: countersign means several people;
* ``reject`` (with a comment) sends the work back: the step waits again with its
  approvals cleared and its predecessors become active again (a start step
  stays active with its approvals cleared);
* an override (an admin, with a reason, decided by the caller) completes,
  approves in full or rejects whatever the owner would have;
* the run is finished when every step is done.

Steps never change the order's status; the order's status completes steps that
ask for it (:func:`follow_status`). Every result lists the :class:`Event` it
caused, for the order's history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from api.workflows.definitions import Approval, Definition, Party


class StepStatus(StrEnum):
    WAITING = "waiting"
    ACTIVE = "active"
    DONE = "done"


class StepAction(StrEnum):
    COMPLETE = "complete"
    APPROVE = "approve"
    REJECT = "reject"


class RefusalKind(StrEnum):
    """Why an action was refused; the stable error codes of ``api.workflows.errors``."""

    NOT_ACTIVE = "workflow.step_not_active"
    NOT_YOURS = "workflow.not_your_step"
    WRONG_ACTION = "workflow.wrong_action"
    STATUS_REQUIRED = "workflow.status_required"


class Refusal(Exception):
    def __init__(self, kind: RefusalKind, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class StepState:
    status: StepStatus = StepStatus.WAITING
    approved: tuple[int, ...] = ()  # indexes into the step's deciders


RunState = Mapping[str, StepState]


@dataclass(frozen=True)
class Event:
    kind: str  # activated, completed, approved, rejected, returned, done_by_status
    step: str
    decider: int | None = None  # approve: which approver's approval this was


@dataclass(frozen=True)
class Outcome:
    state: dict[str, StepState]
    events: list[Event]


def start(definition: Definition, order_status: str) -> Outcome:
    state = {s.key: StepState() for s in definition.steps}
    events: list[Event] = []
    for key in definition.start:
        _activate(definition, state, key, order_status, events)
    return Outcome(state, events)


def act(
    definition: Definition,
    state: RunState,
    key: str,
    action: StepAction,
    parties: Iterable[Party],
    order_status: str,
    *,
    override: bool = False,
) -> Outcome:
    """Take ``action`` on step ``key`` as a person who is ``parties`` (teams and role)."""
    current = dict(state)
    step = definition.step(key) if key in current else None
    if step is None or current[key].status is not StepStatus.ACTIVE:
        raise Refusal(RefusalKind.NOT_ACTIVE, f"Step {key!r} is not waiting for anyone")
    mine = set(parties)
    pending = [i for i in open_deciders(definition, current, key) if step.deciders[i] in mine]
    if not pending and not override:
        raise Refusal(RefusalKind.NOT_YOURS, f"Step {key!r} is not yours to act on")
    events: list[Event] = []
    if action is StepAction.REJECT:
        _reject(definition, current, key, order_status, events)
        return Outcome(current, events)
    wanted = StepAction.COMPLETE if step.approval is Approval.SINGLE else StepAction.APPROVE
    if action is not wanted:
        raise Refusal(RefusalKind.WRONG_ACTION, f"Step {key!r} is done by {wanted.value}")
    if step.done_when_status and order_status not in step.done_when_status and not override:
        needed = ", ".join(sorted(step.done_when_status))
        raise Refusal(RefusalKind.STATUS_REQUIRED, f"Done when the order is {needed}")
    if action is StepAction.COMPLETE or override:
        events.append(Event("completed", key))
        _finish(definition, current, key, order_status, events)
        return Outcome(current, events)
    decider = pending[0]  # one person, one approval
    approved = (*current[key].approved, decider)
    current[key] = replace(current[key], approved=approved)
    events.append(Event("approved", key, decider))
    if step.approval is Approval.ANY_OF or len(approved) == len(step.deciders):
        _finish(definition, current, key, order_status, events)
    return Outcome(current, events)


def follow_status(definition: Definition, state: RunState, order_status: str) -> Outcome:
    """The order's status changed: active steps waiting for this status are done."""
    current = dict(state)
    events: list[Event] = []
    for step in definition.steps:
        if current[step.key].status is StepStatus.ACTIVE and order_status in step.done_when_status:
            events.append(Event("done_by_status", step.key))
            _finish(definition, current, step.key, order_status, events)
    return Outcome(current, events)


def open_deciders(definition: Definition, state: RunState, key: str) -> list[int]:
    """Indexes of the step's deciders who still have to act (none unless active)."""
    if state[key].status is not StepStatus.ACTIVE:
        return []
    deciders = definition.step(key).deciders
    return [i for i in range(len(deciders)) if i not in state[key].approved]


def waiting_for(definition: Definition, state: RunState) -> dict[str, tuple[Party, ...]]:
    """The current steps, in definition order, and who must act on each."""
    return {
        s.key: tuple(s.deciders[i] for i in open_deciders(definition, state, s.key))
        for s in definition.steps
        if state[s.key].status is StepStatus.ACTIVE
    }


def finished(state: RunState) -> bool:
    return all(s.status is StepStatus.DONE for s in state.values())


def _activate(
    definition: Definition,
    state: dict[str, StepState],
    key: str,
    order_status: str,
    events: list[Event],
) -> None:
    state[key] = StepState(StepStatus.ACTIVE)
    events.append(Event("activated", key))
    if order_status in definition.step(key).done_when_status:
        events.append(Event("done_by_status", key))
        _finish(definition, state, key, order_status, events)


def _finish(
    definition: Definition,
    state: dict[str, StepState],
    key: str,
    order_status: str,
    events: list[Event],
) -> None:
    state[key] = StepState(StepStatus.DONE, state[key].approved)
    for nxt in definition.step(key).next:
        ready = all(state[p].status is StepStatus.DONE for p in definition.predecessors(nxt))
        if ready and state[nxt].status is StepStatus.WAITING:
            _activate(definition, state, nxt, order_status, events)


def _reject(
    definition: Definition,
    state: dict[str, StepState],
    key: str,
    order_status: str,
    events: list[Event],
) -> None:
    events.append(Event("rejected", key))
    before = definition.predecessors(key)
    if not before:
        state[key] = StepState(StepStatus.ACTIVE)  # again, from scratch
        return
    state[key] = StepState(StepStatus.WAITING)
    for prev in before:
        if state[prev].status is StepStatus.DONE:
            state[prev] = StepState(StepStatus.ACTIVE)
            events.append(Event("returned", prev))
