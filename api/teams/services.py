"""Team use cases. Each owns one unit of work and audits what it changes.

A supervisor is a person who logs in and can lead a crew: an admin, a
dispatcher or a senior technician of the same tenant. Any other user id, a
deactivated user or another tenant's user is the same 422, so the check
reveals nothing about who exists elsewhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.audit.changes import apply_changes, snapshot
from api.auth.actor import Actor
from api.auth.permissions import Role
from api.db import UnitOfWork
from api.db.checks import check_version, ensure_unused_id, pick
from api.errors.base import FieldProblem
from api.errors.common import ValidationFailed
from api.teams.errors import TeamNameTaken, TeamNotEmpty
from api.teams.models import Team
from api.teams.queries import access_team
from api.technicians.models import Technician
from api.users.models import User

TEAM_FIELDS = frozenset({"name", "name_en", "supervisor_user_id", "region"})
SUPERVISOR_ROLES = (Role.ADMIN, Role.DISPATCHER, Role.TECHNICIAN)


def create_team(uow: UnitOfWork, actor: Actor, data: Mapping[str, Any]) -> Team:
    with uow:
        session = uow.session
        team_id = data.get("id") or None
        ensure_unused_id(session, Team, team_id)
        _ensure_name_free(session, actor, data["name"])
        _check_supervisor(session, actor, data.get("supervisor_user_id"))
        team = Team(tenant_id=actor.tenant_id)
        if team_id:
            team.id = team_id
        apply_changes(team, pick(data, TEAM_FIELDS), TEAM_FIELDS)
        session.add(team)
        session.flush()  # assigns the id before the audit snapshot
        audit.record(session, actor, "create", "team", team.id, snapshot(team, TEAM_FIELDS))
        uow.commit()
        return team


def update_team(
    uow: UnitOfWork,
    actor: Actor,
    team_id: uuid.UUID,
    expected_version: int,
    changes: Mapping[str, Any],
) -> Team:
    with uow:
        session = uow.session
        team = access_team(session, actor, team_id)
        check_version(team, expected_version)
        if "name" in changes and changes["name"] != team.name:
            _ensure_name_free(session, actor, changes["name"])
        # An unchanged supervisor who has since been deactivated does not block other edits.
        if changes.get("supervisor_user_id") not in (None, team.supervisor_user_id):
            _check_supervisor(session, actor, changes["supervisor_user_id"])
        diff = apply_changes(team, changes, TEAM_FIELDS)
        audit.record(session, actor, "update", "team", team.id, diff)
        uow.commit()
        return team


def delete_team(uow: UnitOfWork, actor: Actor, team_id: uuid.UUID, expected_version: int) -> None:
    with uow:
        session = uow.session
        team = access_team(session, actor, team_id)
        check_version(team, expected_version)
        # Deactivated technicians count too: deleting would silently rewrite their history.
        if session.scalar(select(exists().where(Technician.team_id == team.id))):
            raise TeamNotEmpty()
        audit.record(session, actor, "delete", "team", team.id, snapshot(team, ["name"]))
        session.delete(team)
        uow.commit()


def _ensure_name_free(session: Session, actor: Actor, name: str) -> None:
    if session.scalar(select(exists().where(Team.tenant_id == actor.tenant_id, Team.name == name))):
        raise TeamNameTaken()


def _check_supervisor(session: Session, actor: Actor, user_id: uuid.UUID | None) -> None:
    if user_id is None:
        return
    eligible = session.scalar(
        select(
            exists().where(
                User.id == user_id,
                User.tenant_id == actor.tenant_id,
                User.role.in_(SUPERVISOR_ROLES),
                User.active.is_(True),
            )
        )
    )
    if not eligible:
        raise ValidationFailed(
            errors=[
                FieldProblem(
                    "supervisor_user_id",
                    "invalid",
                    "Needs an active admin, dispatcher or technician of this tenant",
                )
            ]
        )
