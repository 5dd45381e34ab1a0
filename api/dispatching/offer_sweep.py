"""The offer timeout the worker runs on a schedule: end what is due, exactly once.

A range scan over the partial index of pending offers by expiry finds those
due. Each is handled in its own savepoint under its order's lock, taken with
``SKIP LOCKED`` on PostgreSQL: an order another worker (or an accept) holds is
left for the next sweep, and once the lock is ours the offer is read again, so
an offer accepted meanwhile is not expired. Expiring moves the chain on to the
next candidate (:func:`api.dispatching.offers.expire_offer`). Several workers
may sweep at once; none ends an offer twice.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import UnitOfWorkFactory
from api.dispatching.models import Offer
from api.dispatching.offers import STRAIGHT, expire_offer
from api.workorders.models import WorkOrder
from dispatch.routing import Router

log = logging.getLogger("fieldline.dispatch")


def expire_offers(
    uow_factory: UnitOfWorkFactory,
    now: datetime,
    router: Router = STRAIGHT,
    batch_size: int = 100,
) -> int:
    """End every offer due by ``now`` (the next candidates ranked with ``router``);
    returns how many were expired."""
    expired = 0
    while True:
        count, seen = _sweep_batch(uow_factory, now, batch_size, router)
        expired += count
        if seen < batch_size or count == 0:
            return expired


def _sweep_batch(
    uow_factory: UnitOfWorkFactory, now: datetime, limit: int, router: Router
) -> tuple[int, int]:
    with uow_factory() as uow:
        session = uow.session
        due = session.execute(
            select(Offer.id, Offer.tenant_id, Offer.work_order_id)
            .where(Offer.state == "pending", Offer.expires_at <= now)
            .order_by(Offer.expires_at)
            .limit(limit)
        ).all()
        expired = 0
        for offer_id, tenant_id, order_id in due:
            try:
                with session.begin_nested():
                    expired += _expire(session, offer_id, tenant_id, order_id, now, router)
            except Exception:
                log.exception("offer timeout failed", extra={"offer_id": str(offer_id)})
        uow.commit()
        return expired, len(due)


def _expire(
    session: Session,
    offer_id: uuid.UUID,
    tenant_id: uuid.UUID,
    order_id: uuid.UUID,
    now: datetime,
    router: Router,
) -> int:
    stmt = select(WorkOrder).where(WorkOrder.id == order_id, WorkOrder.tenant_id == tenant_id)
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        stmt = stmt.with_for_update(skip_locked=True)
    if session.scalars(stmt).one_or_none() is None:
        return 0  # someone is acting on the order right now; the next sweep looks again
    again = select(Offer).where(Offer.id == offer_id).execution_options(populate_existing=True)
    if postgres:
        again = again.with_for_update()
    offer = session.scalars(again).one()
    return 1 if expire_offer(session, offer, now, router) else 0
