"""When completing a work order needs a sign-off: a tenant rule kept on categories.

A category with ``requires_sign_off`` asks it for its orders and for the orders of
every category below it. Such an order completes only once it has the customer's
signature or a recorded refusal (``work_order_signoffs``). Online and synced
completions both pass :func:`check_completion` (from
:func:`api.workorders.transitions.carry_out`), so the rule answers the same code,
``sync.sign_off_required``, to both: a 409 problem online, a rejected receipt in sync.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.categories.models import Category
from api.signoff.errors import SignOffRequired
from api.signoff.models import WorkOrderSignOff

_MAX_LEVELS = 3

__all__ = ["SignOffRequired", "check_completion", "requires_sign_off"]


def requires_sign_off(
    session: Session, tenant_id: uuid.UUID, category_id: uuid.UUID | None
) -> bool:
    current = category_id
    for _ in range(_MAX_LEVELS):
        if current is None:
            return False
        row = session.execute(
            select(Category.requires_sign_off, Category.parent_id).where(
                Category.tenant_id == tenant_id, Category.id == current
            )
        ).first()
        if row is None:
            return False
        if row[0]:
            return True
        current = row[1]
    return False


def check_completion(
    session: Session, tenant_id: uuid.UUID, work_order_id: uuid.UUID, category_id: uuid.UUID | None
) -> None:
    if not requires_sign_off(session, tenant_id, category_id):
        return
    signed = session.scalar(
        select(WorkOrderSignOff.id).where(
            WorkOrderSignOff.tenant_id == tenant_id,
            WorkOrderSignOff.work_order_id == work_order_id,
        )
    )
    if signed is None:
        raise SignOffRequired("Record the customer's signature or refusal first")
