"""Reading offers and the dispatcher's queue: tenant-scoped, actor-aware, ``select()`` only.

The office sees every offer of its tenant; a technician sees their own offers
only (another's is a 404, as if it did not exist); nobody else sees any.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.dispatching import errors
from api.dispatching.models import Dispatch, Offer
from api.http.pagination import Page, paginate
from api.workorders import queries as order_queries
from api.workorders.models import WorkOrder
from api.workorders.states import Status


@dataclass(frozen=True)
class OrderOffers:
    work_order_id: uuid.UUID
    dispatch: Dispatch | None
    offers: list[Offer]


def visible_offers(actor: Actor) -> Select[tuple[Offer]]:
    stmt = select(Offer).where(Offer.tenant_id == actor.tenant_id)
    if actor.is_office:
        return stmt
    if actor.technician_id is not None:
        return stmt.where(Offer.technician_id == actor.technician_id)
    return stmt.where(false())


def access_offer(session: Session, actor: Actor, offer_id: uuid.UUID) -> Offer:
    offer = session.scalar(visible_offers(actor).where(Offer.id == offer_id))
    if offer is None:
        raise errors.OfferNotFound()
    return offer


def list_offers(
    session: Session,
    actor: Actor,
    *,
    limit: int,
    cursor: str | None,
    state: list[str] | None = None,
) -> Page:
    """Newest first (by id, which is time-ordered)."""
    stmt = visible_offers(actor)
    if state:
        stmt = stmt.where(Offer.state.in_(state))
    return paginate(session, stmt, Offer.id, limit=limit, cursor=cursor, descending=True)


def order_offers(session: Session, actor: Actor, work_order_id: uuid.UUID) -> OrderOffers:
    order = order_queries.access_work_order(session, actor, work_order_id)
    offers = session.scalars(
        select(Offer)
        .where(Offer.tenant_id == actor.tenant_id, Offer.work_order_id == order.id)
        .order_by(Offer.attempt)
    ).all()
    dispatch = session.scalar(
        select(Dispatch).where(
            Dispatch.tenant_id == actor.tenant_id, Dispatch.work_order_id == order.id
        )
    )
    return OrderOffers(order.id, dispatch, list(offers))


def dispatch_queue(session: Session, actor: Actor, *, limit: int, cursor: str | None) -> Page:
    """Orders the auto-dispatch handed to the dispatcher and nobody has assigned yet,
    oldest first."""
    stmt = (
        select(Dispatch)
        .join(WorkOrder, WorkOrder.id == Dispatch.work_order_id)
        .where(
            Dispatch.tenant_id == actor.tenant_id,
            Dispatch.state.in_(("queued", "suggested")),
            WorkOrder.tenant_id == actor.tenant_id,
            WorkOrder.status == Status.NEW,
            WorkOrder.assignee_id.is_(None),
        )
    )
    return paginate(session, stmt, Dispatch.work_order_id, limit=limit, cursor=cursor)
