"""Reading an order's sign-off (through the order's access rule: 404 for what one may not see)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.signoff.errors import SignOffNotFound
from api.signoff.models import WorkOrderSignOff
from api.workorders.queries import access_work_order


def find_sign_off(
    session: Session, tenant_id: uuid.UUID, work_order_id: uuid.UUID
) -> WorkOrderSignOff | None:
    return session.scalars(
        select(WorkOrderSignOff).where(
            WorkOrderSignOff.tenant_id == tenant_id,
            WorkOrderSignOff.work_order_id == work_order_id,
        )
    ).one_or_none()


def access_sign_off(session: Session, actor: Actor, work_order_id: uuid.UUID) -> WorkOrderSignOff:
    order = access_work_order(session, actor, work_order_id)
    found = find_sign_off(session, actor.tenant_id, order.id)
    if found is None:
        raise SignOffNotFound()
    return found
