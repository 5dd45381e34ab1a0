"""Reading the audit log (tenant-scoped, newest first)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit.models import AuditEvent
from api.auth.actor import Actor
from api.http.pagination import Page, paginate


def list_events(
    session: Session,
    actor: Actor,
    *,
    limit: int,
    cursor: str | None,
    entity_type: str | None = None,
    entity_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    action: str | None = None,
) -> Page:
    stmt = select(AuditEvent).where(AuditEvent.tenant_id == actor.tenant_id)
    if entity_type:
        stmt = stmt.where(AuditEvent.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    if actor_id:
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return paginate(session, stmt, AuditEvent.id, limit=limit, cursor=cursor, descending=True)
