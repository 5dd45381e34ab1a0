"""Reading teams and their members: tenant- and role-scoped, ``select()`` only."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from api import scoping
from api.auth.actor import Actor
from api.http.pagination import Page, paginate
from api.teams.errors import TeamNotFound
from api.teams.models import Team
from api.technicians.models import Technician


def access_team(session: Session, actor: Actor, team_id: uuid.UUID) -> Team:
    """The team if this actor may see it; otherwise 404, whether or not it exists."""
    team = session.scalars(
        select(Team).where(
            Team.id == team_id, Team.tenant_id == actor.tenant_id, scoping.teams(actor)
        )
    ).one_or_none()
    if team is None:
        raise TeamNotFound()
    return team


def list_teams(
    session: Session, actor: Actor, *, limit: int, cursor: str | None, q: str | None = None
) -> Page:
    """Teams in creation order (UUIDv7), optionally by a name or region search."""
    stmt: Select[tuple[Team]] = select(Team).where(
        Team.tenant_id == actor.tenant_id, scoping.teams(actor)
    )
    if q:
        pattern = f"%{q}%"
        stmt = stmt.where(
            or_(Team.name.ilike(pattern), Team.name_en.ilike(pattern), Team.region.ilike(pattern))
        )
    return paginate(session, stmt, Team.id, limit=limit, cursor=cursor)


def list_members(
    session: Session, actor: Actor, team_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page:
    """The team's technicians (active or not) in creation order."""
    access_team(session, actor, team_id)
    stmt = select(Technician).where(
        Technician.tenant_id == actor.tenant_id,
        Technician.team_id == team_id,
        scoping.technicians(actor),
    )
    return paginate(session, stmt, Technician.id, limit=limit, cursor=cursor)
