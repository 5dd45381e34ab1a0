"""Publishing to the outbox, inside the caller's transaction."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from api.audit.changes import jsonable
from api.outbox.models import OutboxMessage


def publish(
    session: Session, tenant_id: uuid.UUID | None, topic: str, payload: dict[str, Any]
) -> None:
    """Record a side effect; it runs only if the surrounding transaction commits."""
    session.add(OutboxMessage(tenant_id=tenant_id, topic=topic, payload=jsonable(payload)))
