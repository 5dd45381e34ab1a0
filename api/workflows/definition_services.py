"""Saving workflow definitions: checked in full now, versioned on every content change.

A definition that could leave an order stuck (a loop, a step no path reaches,
an empty approver set, a team that is not the tenant's) is refused here with a
stable code, never met later by an order or a worker.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.auth.actor import Actor
from api.categories.models import Category
from api.db import UnitOfWork, utcnow
from api.db.checks import check_version, ensure_unused_id
from api.errors.base import FieldProblem, InvalidInput
from api.errors.common import ValidationFailed
from api.teams.models import Team
from api.workflows import errors, queries
from api.workflows.definitions import Problem, ProblemKind, as_json, parse, team_ids
from api.workflows.models import WorkflowDefinition, WorkflowVersion
from api.workorders.states import Status

_ERRORS: dict[ProblemKind, type[InvalidInput]] = {
    ProblemKind.LOOP: errors.Loop,
    ProblemKind.UNREACHABLE: errors.UnreachableStep,
    ProblemKind.UNKNOWN_STEP: errors.UnknownStep,
    ProblemKind.DUPLICATE_STEP: errors.DuplicateStep,
    ProblemKind.NO_APPROVERS: errors.NoApprovers,
    ProblemKind.UNKNOWN_ROLE: errors.UnknownRole,
    ProblemKind.UNKNOWN_TEAM: errors.UnknownTeam,
    ProblemKind.INVALID_STEP: errors.InvalidStep,
}
_FIELD_CODES = {
    ProblemKind.LOOP: "invalid",
    ProblemKind.UNREACHABLE: "invalid",
    ProblemKind.UNKNOWN_STEP: "not_found",
    ProblemKind.DUPLICATE_STEP: "duplicate",
    ProblemKind.NO_APPROVERS: "required",
    ProblemKind.UNKNOWN_ROLE: "not_allowed",
    ProblemKind.UNKNOWN_TEAM: "not_found",
    ProblemKind.INVALID_STEP: "invalid",
}
_STATUSES = frozenset(s.value for s in Status)


def create_definition(uow: UnitOfWork, actor: Actor, data: Mapping[str, Any]) -> WorkflowDefinition:
    with uow:
        session = uow.session
        ensure_unused_id(session, WorkflowDefinition, data.get("id"))
        _check_category(session, actor, data.get("category_id"))
        content = checked_content(session, actor, data)
        _ensure_free(session, actor, data.get("category_id"), None)
        definition = WorkflowDefinition(
            tenant_id=actor.tenant_id,
            name=data["name"],
            category_id=data.get("category_id"),
            active=data.get("active", True),
            current_version=1,
        )
        if data.get("id"):
            definition.id = data["id"]
        session.add(definition)
        session.flush()  # the id, for the version and the audit entry
        _add_version(session, actor, definition, content)
        audit.record(
            session,
            actor,
            "create",
            "workflow_definition",
            definition.id,
            {"name": {"after": definition.name}, "version": {"after": 1}},
        )
        uow.commit()
        return definition


def update_definition(
    uow: UnitOfWork,
    actor: Actor,
    definition_id: uuid.UUID,
    expected_version: int,
    changes: Mapping[str, Any],
) -> WorkflowDefinition:
    """Change name/active in place; new ``steps`` (or ``start``) make a new version."""
    with uow:
        session = uow.session
        definition = queries.access_definition(session, actor, definition_id)
        check_version(definition, expected_version)
        diff: dict[str, Any] = {}
        for name in ("name", "active"):
            if name in changes and getattr(definition, name) != changes[name]:
                diff[name] = {"before": getattr(definition, name), "after": changes[name]}
                setattr(definition, name, changes[name])
        if "steps" in changes or "start" in changes:
            before = queries.current_version(session, definition).content
            wanted = {
                "steps": changes.get("steps", before["steps"]),
                # New steps without a start begin at their first step, as on creation.
                "start": changes.get("start", None if "steps" in changes else before["start"]),
            }
            content = checked_content(session, actor, wanted)
            if content != before:
                definition.current_version += 1
                _add_version(session, actor, definition, content)
                diff["version"] = {
                    "before": definition.current_version - 1,
                    "after": definition.current_version,
                }
        if diff:
            definition.updated_at = utcnow()  # a new version alone changes no column of its own
            audit.record(session, actor, "update", "workflow_definition", definition.id, diff)
        uow.commit()
        return definition


def present_definition(session: Session, definition: WorkflowDefinition) -> dict[str, Any]:
    """The definition with its current version's steps, as the API shows it."""
    content = queries.current_version(session, definition).content
    shown = {
        name: getattr(definition, name)
        for name in (
            "id",
            "name",
            "category_id",
            "active",
            "current_version",
            "version",
            "created_at",
            "updated_at",
        )
    }
    return shown | {"start": content["start"], "steps": content["steps"]}


def checked_content(session: Session, actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """The definition in its stored form, or every problem with it as one 422."""
    definition, problems = parse(data, _STATUSES)
    for where, team_id in team_ids(definition).items():
        if team_id is None or not _tenant_team(session, actor, team_id):
            problems.append(Problem(ProblemKind.UNKNOWN_TEAM, where, "No such team"))
    if problems:
        raise _ERRORS[problems[0].kind](
            "; ".join(f"{p.field}: {p.message}" for p in problems),
            errors=[FieldProblem(p.field, _FIELD_CODES[p.kind], p.message) for p in problems],
        )
    return as_json(definition)


def _tenant_team(session: Session, actor: Actor, team_id: uuid.UUID) -> bool:
    return (
        session.scalar(select(Team.id).where(Team.id == team_id, Team.tenant_id == actor.tenant_id))
        is not None
    )


def _check_category(session: Session, actor: Actor, category_id: uuid.UUID | None) -> None:
    if category_id is None:
        return
    found = session.scalar(
        select(Category.id).where(Category.id == category_id, Category.tenant_id == actor.tenant_id)
    )
    if found is None:
        raise ValidationFailed(
            errors=[FieldProblem("category_id", "not_found", "No such category")]
        )


def _ensure_free(
    session: Session, actor: Actor, category_id: uuid.UUID | None, own_id: uuid.UUID | None
) -> None:
    stmt = select(WorkflowDefinition.id).where(WorkflowDefinition.tenant_id == actor.tenant_id)
    if category_id is None:
        stmt = stmt.where(WorkflowDefinition.category_id.is_(None))
    else:
        stmt = stmt.where(WorkflowDefinition.category_id == category_id)
    taken = session.scalar(stmt)
    if taken is not None and taken != own_id:
        raise errors.DefinitionTaken()


def _add_version(
    session: Session, actor: Actor, definition: WorkflowDefinition, content: dict[str, Any]
) -> None:
    session.add(
        WorkflowVersion(
            tenant_id=actor.tenant_id,
            definition_id=definition.id,
            number=definition.current_version,
            content=content,
            created_by=actor.principal_id,
            created_at=utcnow(),
        )
    )
