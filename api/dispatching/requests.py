"""The two hooks the work order services call: ask for dispatch, and withdraw offers.

Kept apart from the dispatch services (which run transitions) so the work order
services can import it without a cycle. Creating an order in a tenant whose
dispatch mode is not ``off`` publishes ``work_order.dispatch_requested``; the
worker does the rest (:mod:`api.dispatching.offers`), so creating an order
never waits on ranking technicians. When the office assigns or cancels an order
itself, its pending offer is withdrawn (the device pulls the change) and its
dispatch stops.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.dispatching.models import Dispatch, Offer
from api.outbox.services import publish
from api.tenants.models import Tenant
from api.workorders.models import WorkOrder

TOPIC_REQUESTED = "work_order.dispatch_requested"


def request_dispatch(session: Session, order: WorkOrder) -> None:
    """Hand a new order to the tenant's dispatch policy (through the outbox)."""
    tenant = session.get_one(Tenant, order.tenant_id)
    if tenant.dispatch_mode == "off":
        return
    publish(
        session,
        order.tenant_id,
        TOPIC_REQUESTED,
        # The mode at creation: a policy changed meanwhile applies to later orders.
        {"tenant_id": order.tenant_id, "work_order_id": order.id, "mode": tenant.dispatch_mode},
    )


def withdraw_open(session: Session, order: WorkOrder, reason: str, now: datetime) -> None:
    """The office took the order in hand: its pending offer ends, its dispatch stops."""
    pending = session.scalars(
        select(Offer).where(
            Offer.tenant_id == order.tenant_id,
            Offer.work_order_id == order.id,
            Offer.state == "pending",
        )
    ).all()
    for offer in pending:
        offer.state = "withdrawn"
        offer.answered_at = now
        offer.reason = reason
    dispatch = session.get(Dispatch, order.id)
    if dispatch is not None and dispatch.state in ("offering", "queued", "suggested"):
        dispatch.state = "stopped"
        dispatch.updated_at = now
