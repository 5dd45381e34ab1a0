"""Writing audit events inside the caller's transaction (hash-chained at commit)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from api.audit import chain
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
    *,
    work_order_id: uuid.UUID | None = None,
) -> None:
    """Add an event; it joins its work order's hash chain (``work_order_id``, or the one
    its entity or changes name) or the tenant's when the transaction commits."""
    if action == "update" and not changes:
        return  # a no-op update is not an event
    chain.add(
        session,
        AuditEvent(
            tenant_id=actor.tenant_id,
            actor_kind=actor.kind,
            actor_id=actor.principal_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            changes=changes,
            request_id=request_id_var.get(),
            chain_id=chain.chain_of(
                actor.tenant_id, entity_type, entity_id, changes, work_order_id
            ),
        ),
    )
