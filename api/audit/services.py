"""Writing audit events inside the caller's transaction."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from api.audit.changes import Diff
from api.audit.models import AuditEvent
from api.auth.actor import Actor
from api.observability import request_id_var


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID,
    changes: Diff,
) -> None:
    if action == "update" and not changes:
        return  # a no-op update is not an event
    session.add(
        AuditEvent(
            tenant_id=actor.tenant_id,
            actor_kind=actor.kind,
            actor_id=actor.principal_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            changes=changes,
            request_id=request_id_var.get(),
        )
    )
