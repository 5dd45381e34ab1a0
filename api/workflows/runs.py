"""An order's workflow run in the database: started with the order, moved by actions and status.

:func:`follow_order` is called by the one writer of an order's status history
(``api.workorders.transitions.append_history``), so an order created online or
pushed by a device gets its run, and every status step (online or synced)
completes the steps that wait for it. Each change rewrites the order's
``current_steps`` summary, a server-owned column devices replicate: an offline
technician sees the step the order is at and who must act.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.db import utcnow
from api.workflows import engine, notices, queries
from api.workflows.definitions import Definition, Party, load
from api.workflows.engine import Outcome, RunState, StepState, StepStatus
from api.workflows.models import WorkflowEvent, WorkflowRun, WorkflowVersion
from api.workorders.models import WorkOrder
from api.workorders.states import Status


def follow_order(session: Session, actor: Actor, order: WorkOrder, action: str) -> None:
    """Start the run of a new order, or let a status step move the run it has."""
    with session.no_autoflush:
        if action == "create":
            _start(session, actor, order)
            return
        loaded = load_run(session, order)
        if loaded is None:
            return
        run, definition = loaded
        if order.status is Status.CANCELLED:
            if run.state == "active":
                run.state = "cancelled"
                record_events(session, actor, order, [engine.Event("cancelled", "")])
                publish_summary(session, order, run, definition)
            return
        if run.state == "cancelled":
            run.state = "active"  # reopened: the run goes on where it stood
            record_events(session, actor, order, [engine.Event("resumed", "")])
        if run.state == "active":
            outcome = engine.follow_status(definition, read_state(run), order.status.value)
            apply(session, actor, order, run, definition, outcome)
        publish_summary(session, order, run, definition)


def load_run(session: Session, order: WorkOrder) -> tuple[WorkflowRun, Definition] | None:
    run = session.get(WorkflowRun, order.id)
    if run is None or run.tenant_id != order.tenant_id:
        return None
    version = session.get(WorkflowVersion, run.version_id)
    assert version is not None  # versions are never deleted while a run refers to them
    return run, load(version.content)


def apply(
    session: Session,
    actor: Actor,
    order: WorkOrder,
    run: WorkflowRun,
    definition: Definition,
    outcome: Outcome,
    **details: Any,
) -> None:
    """Store an engine outcome: the step states, the events, a finished run."""
    run.steps = write_state(outcome.state)
    record_events(session, actor, order, outcome.events, definition=definition, **details)
    waiting = [
        e.step
        for e in outcome.events
        if e.kind in ("activated", "returned") and outcome.state[e.step].status is StepStatus.ACTIVE
    ]
    notices.publish_waiting(session, actor, order, definition, waiting)
    if engine.finished(outcome.state) and run.state == "active":
        run.state = "finished"
        run.finished_at = utcnow()
        record_events(session, actor, order, [engine.Event("finished", "")])


def record_events(
    session: Session,
    actor: Actor,
    order: WorkOrder,
    events: list[engine.Event],
    *,
    definition: Definition | None = None,
    comment: str | None = None,
    override_reason: str | None = None,
    at: datetime | None = None,
) -> None:
    now = at or utcnow()
    for event in events:
        approver = None
        if event.decider is not None and definition is not None:
            approver = definition.step(event.step).deciders[event.decider].to_json()
        # The comment and reason belong to the person's own action, not to what it set off.
        own = event.kind in ("completed", "approved", "rejected")
        session.add(
            WorkflowEvent(
                tenant_id=order.tenant_id,
                work_order_id=order.id,
                step=event.step or None,
                kind=event.kind,
                approver=approver,
                comment=comment if own else None,
                override_reason=override_reason if own else None,
                actor_kind=actor.kind,
                actor_id=actor.principal_id,
                at=now,
            )
        )


def publish_summary(
    session: Session, order: WorkOrder, run: WorkflowRun, definition: Definition
) -> None:
    """Rewrite the order's ``current_steps`` (only when it changed: an unchanged order keeps
    its version, so devices are not sent the same row again)."""
    summary = summarise(session, order, run, definition)
    if order.current_steps != summary:
        order.current_steps = summary


def summarise(
    session: Session, order: WorkOrder, run: WorkflowRun, definition: Definition
) -> dict[str, Any]:
    pending = engine.waiting_for(definition, read_state(run)) if run.state == "active" else {}
    teams = queries.team_names(
        session,
        order.tenant_id,
        {p.value for parties in pending.values() for p in parties if p.kind == "team"},
    )
    version = session.get(WorkflowVersion, run.version_id)
    steps = []
    for key, parties in pending.items():
        step = definition.step(key)
        steps.append(
            {
                "key": key,
                "name": step.name,
                "name_en": step.name_en,
                "approval": step.approval.value,
                "done_when_status": sorted(step.done_when_status),
                "waiting_for": [_party(p, teams) for p in parties],
            }
        )
    return {
        "state": run.state,
        "definition_id": str(run.definition_id),
        "version": version.number if version else None,
        "steps": steps,
    }


def read_state(run: WorkflowRun) -> RunState:
    return {
        key: StepState(StepStatus(value["status"]), tuple(value.get("approved") or ()))
        for key, value in run.steps.items()
    }


def write_state(state: RunState) -> dict[str, Any]:
    return {
        key: {"status": value.status.value, "approved": list(value.approved)}
        for key, value in state.items()
    }


def _party(party: Party, teams: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = party.to_json()
    if party.kind == "team":
        team = teams.get(party.value)
        shown["team_name"] = team.name if team else None
    return shown


def _start(session: Session, actor: Actor, order: WorkOrder) -> None:
    found = queries.definition_for(session, order.tenant_id, order.category_id)
    if found is None:
        return
    version = queries.current_version(session, found)
    definition = load(version.content)
    outcome = engine.start(definition, order.status.value)
    run = WorkflowRun(
        tenant_id=order.tenant_id,
        work_order_id=order.id,
        definition_id=found.id,
        version_id=version.id,
        state="active",
        steps={},
        started_at=utcnow(),
    )
    session.add(run)
    record_events(session, actor, order, [engine.Event("started", "")])
    apply(session, actor, order, run, definition, outcome)
    publish_summary(session, order, run, definition)
