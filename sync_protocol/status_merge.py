"""The status merge policy: an offline transition replayed against the server's current status.

A status is never last-writer-wins. Each offline transition names the status the
device saw (``base_status``); :func:`decide` replays it against what the server
holds now and returns one outcome, by the precedence rules of PROTOCOL.md § 8.1:

1. invalid in itself (a party the rule does not allow, a technician step with
   no technician, a ``base_status`` it cannot start from, an ``assign`` with no
   assignee) → ``rejected``;
2. the office and customers act online: legal from the current status →
   ``applied`` (``merged`` if it moved meanwhile), already there → ``duplicate``;
3. a technician's ``decline`` of a job they no longer hold → ``duplicate``;
4. anything by a technician on an order the office cancelled → ``conflict``,
   the cancellation stays (``complete`` vs ``cancel`` is never a silent overwrite);
5. an order reassigned away while offline: ``complete`` wins (the work is done)
   and the reassignment becomes a conflict; any other step → ``conflict``, the
   new assignee keeps the job;
6. on the technician's own job the field path is monotone: a step already
   reached or passed → ``duplicate``; ``paused``/``in_progress`` is a register
   ordered by HLC; ``complete`` from either is ``merged``; a step on an order the
   office moved back → ``conflict`` (except ``complete``, which wins).

When one technician's devices step along the field path, the order's final
status depends only on the set of their transitions, never on delivery order or
duplicates (tested). Client and server share this function.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from enum import StrEnum

from sync_protocol.hlc import HLC
from sync_protocol.merge import Outcome
from sync_protocol.workorder_status import (
    ACTIVE,
    RULES,
    Action,
    AssigneeEffect,
    Party,
    Plan,
    Rule,
    Status,
    may_take,
    plan,
)

# Position on the field path; paused and in_progress share one (a register).
RANK: dict[Status, int] = {
    Status.ASSIGNED: 1,
    Status.ACCEPTED: 2,
    Status.EN_ROUTE: 3,
    Status.ON_SITE: 4,
    Status.IN_PROGRESS: 5,
    Status.PAUSED: 5,
    Status.COMPLETED: 6,
    Status.CLOSED: 7,
}
WORKING = 5
FINISHED = frozenset({Status.COMPLETED, Status.CLOSED})


class Kept(StrEnum):
    SERVER = "server"
    DEVICE = "device"


@dataclass(frozen=True)
class OrderStatusState:
    status: Status
    assignee_id: uuid.UUID | None
    status_hlc: HLC | None = None  # the HLC of the write that set ``status``


@dataclass(frozen=True)
class TransitionIntent:
    action: Action
    party: Party
    base_status: Status
    hlc: HLC
    actor_id: uuid.UUID | None = None  # the technician, for Party.ASSIGNEE
    assignee_id: uuid.UUID | None = None  # the ``assign`` action's argument


@dataclass(frozen=True)
class StatusConflict:
    """Both sides of a clash; ``kept`` says which one the order now shows."""

    code: str  # sync.concurrent_status | sync.reassigned
    field: str  # "status" or "assignee_id"
    server_value: str | None
    device_value: str | None
    kept: Kept


@dataclass(frozen=True)
class StatusDecision:
    outcome: Outcome
    state: OrderStatusState  # the order after the decision
    plan: Plan | None = None  # what to apply when the status changes
    conflict: StatusConflict | None = None
    code: str | None = None  # why it was rejected or is a conflict
    detail: str = ""

    @property
    def changed(self) -> bool:
        return self.plan is not None


def decide(state: OrderStatusState, intent: TransitionIntent) -> StatusDecision:
    """Replay ``intent`` against ``state``; see the module docstring for the rules."""
    rule = RULES[intent.action]
    if intent.party not in rule.parties and not (
        intent.party is Party.CUSTOMER and rule.customer_from
    ):
        return _rejected(state, "sync.transition_forbidden", f"{intent.party} may not act")
    if intent.party is Party.ASSIGNEE and intent.actor_id is None:
        return _rejected(state, "sync.transition_forbidden", "A field step needs its technician")
    if intent.base_status not in rule.sources:
        return _rejected(state, "sync.illegal_transition", "Not possible from base_status")
    if rule.assignee is AssigneeEffect.SET and intent.assignee_id is None:
        return _rejected(state, "sync.missing_field", f"{intent.action} needs assignee_id")
    if intent.party is Party.ASSIGNEE:
        return _technician(state, intent, rule)
    return _online(state, intent, rule)


def _online(state: OrderStatusState, intent: TransitionIntent, rule: Rule) -> StatusDecision:
    current = state.status
    if current in rule.sources:
        if not may_take(rule, current, intent.party):
            return _rejected(state, "sync.transition_forbidden", f"Not from {current}")
        moved = plan(current, intent.action, intent.party, has_assignee=_has(state))
        outcome = Outcome.APPLIED if current is intent.base_status else Outcome.MERGED
        return _move(state, intent, moved, outcome, intent.assignee_id)
    if _target(rule, state) is current:
        return StatusDecision(Outcome.DUPLICATE, state, detail=f"Already {current}")
    return _rejected(state, "sync.illegal_transition", f"Not possible from {current}")


def _technician(state: OrderStatusState, intent: TransitionIntent, rule: Rule) -> StatusDecision:
    current, action = state.status, intent.action
    holds = intent.actor_id is not None and intent.actor_id == state.assignee_id
    if action is Action.DECLINE:
        if not holds or current in (Status.NEW, Status.CANCELLED):
            return StatusDecision(Outcome.DUPLICATE, state, detail="Already off the job")
        if current is intent.base_status:
            return _step(state, intent, Outcome.APPLIED)
        return _conflict(state, intent, "sync.concurrent_status", "status")
    if current is Status.CANCELLED:
        return _conflict(state, intent, "sync.concurrent_status", "status")
    if not holds:
        if action is Action.COMPLETE and current in ACTIVE:
            return _completion_wins(state, intent, "sync.reassigned", "assignee_id")
        return _conflict(state, intent, "sync.reassigned", "assignee_id")
    return _own_job(state, intent, rule)


def _own_job(state: OrderStatusState, intent: TransitionIntent, rule: Rule) -> StatusDecision:
    current, base, target = state.status, intent.base_status, rule.target
    if current not in RANK:  # NEW never has an assignee; kept for safety
        return _conflict(state, intent, "sync.concurrent_status", "status")
    if intent.action is Action.COMPLETE:
        if current in FINISHED:
            return StatusDecision(Outcome.DUPLICATE, state, detail=f"Already {current}")
        if current is base:
            return _step(state, intent, Outcome.APPLIED)
        if RANK[current] == RANK[base]:
            return _step(state, intent, Outcome.MERGED, from_status=current)
        return _completion_wins(state, intent, "sync.concurrent_status", "status")
    if RANK[current] > RANK[target]:
        return StatusDecision(Outcome.DUPLICATE, state, detail=f"Already past: {current}")
    if RANK[current] == RANK[target] == WORKING:
        return _working_register(state, intent)
    if RANK[current] == RANK[target]:
        return StatusDecision(Outcome.DUPLICATE, state, detail=f"Already {current}")
    if current is base:
        return _step(state, intent, Outcome.APPLIED)
    return _conflict(state, intent, "sync.concurrent_status", "status")


def _working_register(state: OrderStatusState, intent: TransitionIntent) -> StatusDecision:
    """``in_progress``/``paused`` is last-writer-wins by HLC among the job's own steps."""
    target = RULES[intent.action].target
    if state.status_hlc is not None and intent.hlc <= state.status_hlc:
        return StatusDecision(Outcome.DUPLICATE, state, detail="Superseded by a later step")
    if state.status is target:
        bumped = replace(state, status_hlc=intent.hlc)
        return StatusDecision(Outcome.DUPLICATE, bumped, detail=f"Already {target}")
    outcome = Outcome.APPLIED if state.status is intent.base_status else Outcome.MERGED
    return _step(state, intent, outcome, from_status=state.status)


def _step(
    state: OrderStatusState,
    intent: TransitionIntent,
    outcome: Outcome,
    *,
    from_status: Status | None = None,
) -> StatusDecision:
    rule = RULES[intent.action]
    moved = Plan(
        intent.action,
        from_status or state.status,
        rule.target,
        rule.assignee,
        rule.stamp,
        rule.clears_stamps,
    )
    return _move(state, intent, moved, outcome, None)


def _completion_wins(
    state: OrderStatusState, intent: TransitionIntent, code: str, field: str
) -> StatusDecision:
    """Work done on site is a fact: complete, restore the technician, record the clash."""
    rule = RULES[Action.COMPLETE]
    moved = Plan(Action.COMPLETE, state.status, rule.target, AssigneeEffect.SET, rule.stamp, False)
    clash = _clash(state, intent, code, field, Kept.DEVICE)
    decided = _move(state, intent, moved, Outcome.CONFLICT, intent.actor_id)
    return replace(decided, conflict=clash, code=code)


def _move(
    state: OrderStatusState,
    intent: TransitionIntent,
    moved: Plan,
    outcome: Outcome,
    assignee: uuid.UUID | None,
) -> StatusDecision:
    if moved.assignee is AssigneeEffect.SET:
        assignee_after = assignee
    elif moved.assignee is AssigneeEffect.CLEAR:
        assignee_after = None
    else:
        assignee_after = state.assignee_id
    after = OrderStatusState(moved.to_status, assignee_after, intent.hlc)
    return StatusDecision(outcome, after, plan=moved)


def _conflict(
    state: OrderStatusState, intent: TransitionIntent, code: str, field: str
) -> StatusDecision:
    clash = _clash(state, intent, code, field, Kept.SERVER)
    return StatusDecision(Outcome.CONFLICT, state, conflict=clash, code=code)


def _clash(
    state: OrderStatusState, intent: TransitionIntent, code: str, field: str, kept: Kept
) -> StatusConflict:
    if field == "assignee_id":
        server = str(state.assignee_id) if state.assignee_id else None
        device = str(intent.actor_id) if intent.actor_id else None
        return StatusConflict(code, field, server, device, kept)
    target = RULES[intent.action].target
    return StatusConflict(code, field, state.status.value, target.value, kept)


def _rejected(state: OrderStatusState, code: str, detail: str) -> StatusDecision:
    return StatusDecision(Outcome.REJECTED, state, code=code, detail=detail)


def _has(state: OrderStatusState) -> bool:
    return state.assignee_id is not None


def _target(rule: Rule, state: OrderStatusState) -> Status:
    if rule.target_if_assigned is not None and _has(state):
        return rule.target_if_assigned
    return rule.target
