"""Reading technicians: tenant- and role-scoped, ``select()`` only."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from api import scoping
from api.auth.actor import Actor
from api.http.pagination import Page, paginate
from api.technicians.errors import TechnicianNotFound
from api.technicians.models import Technician, TechnicianSkill

SkillRequirement = tuple[str, int]  # (skill slug, minimum level)


def access_technician(session: Session, actor: Actor, technician_id: uuid.UUID) -> Technician:
    """The technician if this actor may see them; otherwise 404, whether or not they exist."""
    technician = session.scalars(
        select(Technician).where(
            Technician.id == technician_id,
            Technician.tenant_id == actor.tenant_id,
            scoping.technicians(actor),
        )
    ).one_or_none()
    if technician is None:
        raise TechnicianNotFound()
    return technician


def list_technicians(
    session: Session,
    actor: Actor,
    *,
    limit: int,
    cursor: str | None,
    active: bool | None = None,
    team_id: uuid.UUID | None = None,
    skill: Sequence[SkillRequirement] | None = None,
    q: str | None = None,
) -> Page:
    """Technicians in creation order (UUIDv7). Every skill requirement must be met."""
    stmt: Select[tuple[Technician]] = select(Technician).where(
        Technician.tenant_id == actor.tenant_id, scoping.technicians(actor)
    )
    if active is not None:
        stmt = stmt.where(Technician.active.is_(active))
    if team_id is not None:
        stmt = stmt.where(Technician.team_id == team_id)
    for slug, min_level in skill or ():
        stmt = stmt.where(
            exists().where(
                TechnicianSkill.technician_id == Technician.id,
                TechnicianSkill.skill == slug,
                TechnicianSkill.level >= min_level,
            )
        )
    if q:
        pattern = f"%{q}%"
        stmt = stmt.where(
            or_(
                Technician.name.ilike(pattern),
                Technician.name_en.ilike(pattern),
                Technician.employee_no.ilike(pattern),
            )
        )
    return paginate(session, stmt, Technician.id, limit=limit, cursor=cursor)
