"""Reading workflow definitions and runs, always inside the caller's tenant."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.categories.models import MAX_DEPTH, Category
from api.teams.models import Team
from api.technicians.models import Technician
from api.workflows.definitions import Party
from api.workflows.errors import DefinitionNotFound, DefinitionVersionNotFound
from api.workflows.models import WorkflowDefinition, WorkflowVersion


def access_definition(
    session: Session, actor: Actor, definition_id: uuid.UUID
) -> WorkflowDefinition:
    found = session.scalars(
        select(WorkflowDefinition).where(
            WorkflowDefinition.id == definition_id,
            WorkflowDefinition.tenant_id == actor.tenant_id,
        )
    ).one_or_none()
    if found is None:
        raise DefinitionNotFound()
    return found


def access_version(
    session: Session, actor: Actor, definition_id: uuid.UUID, version_id: uuid.UUID
) -> WorkflowVersion:
    definition = access_definition(session, actor, definition_id)
    found = session.scalars(
        select(WorkflowVersion).where(
            WorkflowVersion.definition_id == definition.id, WorkflowVersion.id == version_id
        )
    ).one_or_none()
    if found is None:
        raise DefinitionVersionNotFound()
    return found


def current_version(session: Session, definition: WorkflowDefinition) -> WorkflowVersion:
    return session.scalars(
        select(WorkflowVersion).where(
            WorkflowVersion.definition_id == definition.id,
            WorkflowVersion.number == definition.current_version,
        )
    ).one()


def definition_for(
    session: Session, tenant_id: uuid.UUID, category_id: uuid.UUID | None
) -> WorkflowDefinition | None:
    """The active definition an order of this category follows: the category's own, else
    the nearest ancestor's, else the tenant-wide one (category null), else none."""
    chain: list[uuid.UUID] = []
    while category_id is not None and len(chain) < MAX_DEPTH:
        chain.append(category_id)
        category_id = session.scalar(
            select(Category.parent_id).where(
                Category.id == category_id, Category.tenant_id == tenant_id
            )
        )
    found = {
        d.category_id: d
        for d in session.scalars(
            select(WorkflowDefinition).where(
                WorkflowDefinition.tenant_id == tenant_id,
                WorkflowDefinition.active.is_(True),
                (WorkflowDefinition.category_id.in_(chain))
                | WorkflowDefinition.category_id.is_(None),
            )
        )
    }
    for candidate in [*chain, None]:
        if candidate in found:
            return found[candidate]
    return None


def parties_of(session: Session, actor: Actor) -> frozenset[Party]:
    """Who the actor acts as: their role, their technician's team, teams they supervise."""
    parties = {Party("role", actor.role.value)}
    if actor.technician_id is not None:
        team_id = session.scalar(
            select(Technician.team_id).where(
                Technician.id == actor.technician_id, Technician.tenant_id == actor.tenant_id
            )
        )
        if team_id is not None:
            parties.add(Party("team", str(team_id)))
    if actor.user_id is not None:
        supervised = session.scalars(
            select(Team.id).where(
                Team.tenant_id == actor.tenant_id, Team.supervisor_user_id == actor.user_id
            )
        )
        parties.update(Party("team", str(t)) for t in supervised)
    return frozenset(parties)


def team_names(session: Session, tenant_id: uuid.UUID, ids: set[str]) -> dict[str, Team]:
    wanted = [uuid.UUID(i) for i in ids]
    if not wanted:
        return {}
    rows = session.scalars(select(Team).where(Team.tenant_id == tenant_id, Team.id.in_(wanted)))
    return {str(t.id): t for t in rows}
