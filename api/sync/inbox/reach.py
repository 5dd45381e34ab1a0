"""Which office transitions take a work order to a status a device asked for (pure).

A dispatcher's ``take_device`` on a status conflict (PROTOCOL.md § 8.6) must not
write the status column: it takes the state machine's own office actions, so
the order keeps the trail of an online job (history, audit, outbox). This
module finds the shortest such path by breadth-first search over
``workorder_status.RULES``. A state is the status plus who holds the order
(nobody, the device's technician, someone else); the goal is the target status
held by the technician (by nobody for ``new``; by anyone for ``closed`` and
``cancelled``, which only a dispatcher's ``custom`` asks for). The path never passes
through a final status it does not end in (completed, closed, cancelled): a
detour through a completion or a cancellation would record work or a decision
that never happened. So ``reopen`` is only ever the first step.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum

from sync_protocol.errors import ProtocolError
from sync_protocol.workorder_status import RULES, Action, AssigneeEffect, Party, Status, plan


class Holder(StrEnum):
    NOBODY = "nobody"
    TECHNICIAN = "technician"  # the device's technician
    OTHER = "other"


State = tuple[Status, Holder]

_FINAL = frozenset({Status.COMPLETED, Status.CLOSED, Status.CANCELLED})


def office_route(status: Status, holder: Holder, target: Status) -> list[Action] | None:
    """The office actions from ``(status, holder)`` to ``target``; None if there are none."""
    start: State = (status, holder)
    came_from: dict[State, tuple[State, Action] | None] = {start: None}
    queue: deque[State] = deque([start])
    while queue:
        state = queue.popleft()
        if _is_goal(state, target):
            return _path(came_from, state)
        for action in RULES:
            following = _step(state, action)
            if following is None or not _may_pass(following, target):
                continue
            if following not in came_from:
                came_from[following] = (state, action)
                queue.append(following)
    return None


def _is_goal(state: State, target: Status) -> bool:
    status, holder = state
    if status is not target:
        return False
    if target is Status.NEW:
        return holder is Holder.NOBODY
    # A closed or cancelled order is the office's decision, whoever held it.
    return target in (Status.CLOSED, Status.CANCELLED) or holder is Holder.TECHNICIAN


def _may_pass(state: State, target: Status) -> bool:
    """A final status only ends a route (or is the completion a close needs)."""
    status, holder = state
    if status not in _FINAL or _is_goal(state, target):
        return True
    return status is Status.COMPLETED and target is Status.CLOSED and holder is Holder.TECHNICIAN


def _step(state: State, action: Action) -> State | None:
    status, holder = state
    try:
        moved = plan(status, action, Party.OFFICE, has_assignee=holder is not Holder.NOBODY)
    except ProtocolError:
        return None
    if moved.assignee is AssigneeEffect.SET:
        holder = Holder.TECHNICIAN  # an assign in a resolution always names the technician
    elif moved.assignee is AssigneeEffect.CLEAR:
        holder = Holder.NOBODY
    following = (moved.to_status, holder)
    return None if following == state else following


def _path(came_from: dict[State, tuple[State, Action] | None], state: State) -> list[Action]:
    actions: list[Action] = []
    link = came_from[state]
    while link is not None:
        state, action = link
        actions.append(action)
        link = came_from[state]
    return actions[::-1]
