"""Acting on an order's workflow step: complete, approve or reject, as the step's owner.

Only members of the step's team (a technician of the team, or its supervisor)
or people with its role may act; an admin may act on any step by stating an
``override_reason``, which the history keeps. Every action is one unit of work:
the run, its events, the order's ``current_steps`` and an audit entry.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.auth.actor import Actor
from api.auth.permissions import Role
from api.db import UnitOfWork
from api.errors.base import FieldlineError, FieldProblem
from api.errors.common import ValidationFailed
from api.workflows import engine, errors, queries, runs
from api.workflows.definitions import Definition, Party
from api.workflows.engine import RefusalKind, StepAction
from api.workflows.models import WorkflowEvent, WorkflowRun
from api.workorders.errors import WorkOrderNotFound
from api.workorders.models import WorkOrder
from api.workorders.queries import access_work_order

_REFUSALS: dict[RefusalKind, type[FieldlineError]] = {
    RefusalKind.NOT_ACTIVE: errors.StepNotActive,
    RefusalKind.NOT_YOURS: errors.NotYourStep,
    RefusalKind.WRONG_ACTION: errors.WrongAction,
    RefusalKind.STATUS_REQUIRED: errors.StatusRequired,
}


@dataclass(frozen=True)
class RunView:
    """An order's workflow as the API shows it."""

    work_order_id: uuid.UUID
    definition_id: uuid.UUID
    version: int | None
    state: str
    steps: list[dict[str, Any]]
    current_steps: list[dict[str, Any]]
    yours: list[str]
    events: list[WorkflowEvent]


def take_action(
    uow: UnitOfWork, actor: Actor, work_order_id: uuid.UUID, command: Mapping[str, Any]
) -> RunView:
    with uow:
        session = uow.session
        order = access_for_step(session, actor, work_order_id, for_update=True)
        run, definition = _run_of(session, order)
        if run.state != "active":
            raise errors.StepNotActive(f"The workflow is {run.state}")
        override = command.get("override_reason")
        if override and actor.role is not Role.ADMIN:
            raise errors.NotYourStep("Only an admin may override a step")
        action = StepAction(command["action"])
        if action is StepAction.REJECT and not (command.get("comment") or "").strip():
            raise ValidationFailed(
                errors=[FieldProblem("comment", "required", "Say why the step is rejected")]
            )
        try:
            outcome = engine.act(
                definition,
                runs.read_state(run),
                command["step"],
                action,
                queries.parties_of(session, actor),
                order.status.value,
                override=bool(override),
            )
        except engine.Refusal as refused:
            raise _REFUSALS[refused.kind](refused.detail) from refused
        runs.apply(
            session,
            actor,
            order,
            run,
            definition,
            outcome,
            comment=command.get("comment"),
            override_reason=override,
        )
        runs.publish_summary(session, order, run, definition)
        audit.record(
            session,
            actor,
            "workflow_step",
            "work_order",
            order.id,
            {
                "step": {"after": command["step"]},
                "action": {"after": action.value},
                **({"override_reason": {"after": override}} if override else {}),
            },
        )
        view = present(session, actor, order, run, definition)
        uow.commit()
        return view


def read_run(session: Session, actor: Actor, work_order_id: uuid.UUID) -> RunView:
    """The order's run for the staff. A customer contact may see their order, but its
    workflow (internal comments, teams) is none of theirs: ``workflow.no_run``."""
    order = access_for_step(session, actor, work_order_id)
    if actor.role is Role.CUSTOMER_CONTACT:
        raise errors.NoWorkflow()
    run, definition = _run_of(session, order)
    return present(session, actor, order, run, definition)


def present(
    session: Session, actor: Actor, order: WorkOrder, run: WorkflowRun, definition: Definition
) -> RunView:
    state = runs.read_state(run)
    mine = queries.parties_of(session, actor)
    pending = engine.waiting_for(definition, state) if run.state == "active" else {}
    summary = runs.summarise(session, order, run, definition)
    steps = [
        {
            "key": s.key,
            "name": s.name,
            "name_en": s.name_en,
            "status": state[s.key].status.value,
            "approval": s.approval.value,
            "owner": s.owner.to_json(),
            "approvers": [p.to_json() for p in s.approvers],
            "approved": [s.deciders[i].to_json() for i in state[s.key].approved],
            "next": list(s.next),
            "done_when_status": sorted(s.done_when_status),
        }
        for s in definition.steps
    ]
    events = list(
        session.scalars(
            select(WorkflowEvent)
            .where(WorkflowEvent.work_order_id == order.id)
            .order_by(WorkflowEvent.at, WorkflowEvent.id)
        )
    )
    return RunView(
        work_order_id=order.id,
        definition_id=run.definition_id,
        version=summary["version"],
        state=run.state,
        steps=steps,
        current_steps=summary["steps"],
        yours=[key for key, parties in pending.items() if mine & set(parties)],
        events=events,
    )


def access_for_step(
    session: Session, actor: Actor, work_order_id: uuid.UUID, *, for_update: bool = False
) -> WorkOrder:
    """The order if the actor may see it, or if a current step waits for them.

    A technician sees only their assigned orders; a step owned by their team must
    still reach every member, so an order waiting for the actor's team is visible
    here (its workflow, not the rest of the order). Anything else is the same 404.
    """
    try:
        return access_work_order(session, actor, work_order_id, for_update=for_update)
    except WorkOrderNotFound:
        if actor.is_office or actor.role is Role.CUSTOMER_CONTACT:
            raise
        stmt = select(WorkOrder).where(
            WorkOrder.id == work_order_id, WorkOrder.tenant_id == actor.tenant_id
        )
        order = session.scalars(stmt.with_for_update() if for_update else stmt).one_or_none()
        if order is None or not _waits_for(order, queries.parties_of(session, actor)):
            raise
        return order


def _waits_for(order: WorkOrder, parties: frozenset[Party]) -> bool:
    wanted = {(p.kind, p.value) for p in parties}
    for step in (order.current_steps or {}).get("steps") or []:
        for party in step.get("waiting_for") or []:
            if ("team", party.get("team_id")) in wanted or ("role", party.get("role")) in wanted:
                return True
    return False


def _run_of(session: Session, order: WorkOrder) -> tuple[WorkflowRun, Definition]:
    loaded = runs.load_run(session, order)
    if loaded is None:
        raise errors.NoWorkflow()
    return loaded
