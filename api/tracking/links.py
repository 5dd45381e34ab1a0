"""Tracking links: made on demand for one order, rotated, revoked, looked up.

Made by the office or by the order's customer contact (whoever may read the
order through :func:`api.workorders.queries.access_work_order`). Making a link
rotates: the order's earlier links stop working, so a link sent to the wrong
number can be replaced. A public lookup by token answers 404
``tracking.link_not_found`` alike for an unknown, revoked or expired token.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.auth.actor import Actor
from api.auth.permissions import Role
from api.db import UnitOfWork, new_id, utcnow
from api.errors.common import PermissionDenied
from api.live import capture as live
from api.tracking import rules
from api.tracking.errors import NoTrackingLink, TrackingLinkNotFound
from api.tracking.models import TrackingLink, new_tracking_token
from api.workorders import queries
from api.workorders.models import WorkOrder

# The shape of every token :func:`new_tracking_token` makes. Anything else cannot name
# a link, so it is refused unread and uncounted (a rate-limit count is a write).
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32}")


@dataclass(frozen=True)
class SharedLink:
    """What the office or the customer shares by SMS or WeChat."""

    url: str
    token: str
    expires_at: datetime


def tracking_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/t/{token}"


def create_link(
    uow: UnitOfWork, actor: Actor, work_order_id: uuid.UUID, public_url: str
) -> SharedLink:
    """A new link for the order; the order's earlier links stop working."""
    _check_may_share(actor)
    with uow:
        session = uow.session
        order = queries.access_work_order(session, actor, work_order_id, for_update=True)
        now = utcnow()
        _revoke(session, order, now, actor)
        link = TrackingLink(
            id=new_id(),  # the audit event names it before the flush
            tenant_id=order.tenant_id,
            work_order_id=order.id,
            token=new_tracking_token(),
            created_by=actor.user_id,
            created_at=now,
            expires_at=now + rules.LINK_LIFETIME,
        )
        session.add(link)
        audit.record(
            session,
            actor,
            "create",
            "tracking_link",
            link.id,
            {"expires_at": {"after": link.expires_at.isoformat()}},  # never the token
            work_order_id=order.id,
        )
        shared = _shared(link, order, public_url)
        uow.commit()
    return shared


def issue_link(
    uow: UnitOfWork, tenant_id: uuid.UUID, work_order_id: uuid.UUID, public_url: str
) -> SharedLink:
    """A first link for an order the public just opened (a repair request from a QR
    label): its confirmation carries it, so whoever reported the fault can follow it."""
    with uow:
        session = uow.session
        order = session.scalars(
            select(WorkOrder).where(WorkOrder.tenant_id == tenant_id, WorkOrder.id == work_order_id)
        ).one()
        now = utcnow()
        shared = _shared(_new_link(session, order, now), order, public_url)
        uow.commit()
    return shared


def link_to_text(session: Session, order: WorkOrder, public_url: str) -> SharedLink:
    """The order's working link for a text to its customer, made if there is none (never
    rotated: a link the customer already has keeps working). In the caller's transaction."""
    now = utcnow()
    link = _working_link(session, order, now) or _new_link(session, order, now)
    return _shared(link, order, public_url)


def current_link(
    session: Session, actor: Actor, work_order_id: uuid.UUID, public_url: str
) -> SharedLink:
    """The order's working link, to share again without rotating it."""
    _check_may_share(actor)
    order = queries.access_work_order(session, actor, work_order_id)
    link = _working_link(session, order, utcnow())
    if link is None:
        raise NoTrackingLink()
    return _shared(link, order, public_url)


def revoke_links(uow: UnitOfWork, actor: Actor, work_order_id: uuid.UUID) -> None:
    """Every link of the order stops working (a new one can be made later)."""
    _check_may_share(actor)
    with uow:
        order = queries.access_work_order(uow.session, actor, work_order_id, for_update=True)
        _revoke(uow.session, order, utcnow(), actor)
        uow.commit()


def open_link(session: Session, token: str) -> tuple[TrackingLink, WorkOrder]:
    """The working link a token names and its order; 404 otherwise, whatever the reason."""
    check_shape(token)
    link = session.scalars(select(TrackingLink).where(TrackingLink.token == token)).one_or_none()
    if link is None or link.revoked_at is not None:
        raise TrackingLinkNotFound()
    order = session.scalars(
        select(WorkOrder).where(
            WorkOrder.tenant_id == link.tenant_id, WorkOrder.id == link.work_order_id
        )
    ).one()
    if _expires(link, order) <= utcnow():
        raise TrackingLinkNotFound()
    return link, order


def ended(session: Session, token: str) -> bool:
    """Whether ``token`` is a link this server made that has since been revoked or has
    expired. The customer's page says so (410) instead of "not found"; a token is
    unguessable, so telling its holder that it once worked reveals nothing new."""
    if not _TOKEN_SHAPE.fullmatch(token):
        return False
    link = session.scalars(select(TrackingLink).where(TrackingLink.token == token)).one_or_none()
    if link is None:
        return False
    if link.revoked_at is not None:
        return True
    order = session.scalars(
        select(WorkOrder).where(
            WorkOrder.tenant_id == link.tenant_id, WorkOrder.id == link.work_order_id
        )
    ).one()
    return _expires(link, order) <= utcnow()


def working_token(session: Session, link_id: uuid.UUID) -> str | None:
    """The link's token while it works (not revoked, not expired); None after."""
    link = session.get(TrackingLink, link_id)
    if link is None or link.revoked_at is not None:
        return None
    order = session.scalars(
        select(WorkOrder).where(
            WorkOrder.tenant_id == link.tenant_id, WorkOrder.id == link.work_order_id
        )
    ).one()
    return link.token if _expires(link, order) > utcnow() else None


def check_shape(token: str) -> None:
    """404 for what cannot be a token this server made (before any counting)."""
    if not _TOKEN_SHAPE.fullmatch(token):
        raise TrackingLinkNotFound()


def expires_at(link: TrackingLink, order: WorkOrder) -> datetime:
    return _expires(link, order)


def _expires(link: TrackingLink, order: WorkOrder) -> datetime:
    return rules.expiry(link.expires_at, order.completed_at, order.closed_at, order.cancelled_at)


def _working_link(session: Session, order: WorkOrder, now: datetime) -> TrackingLink | None:
    """The order's newest link that still works, if any."""
    for link in session.scalars(
        select(TrackingLink)
        .where(
            TrackingLink.tenant_id == order.tenant_id,
            TrackingLink.work_order_id == order.id,
            TrackingLink.revoked_at.is_(None),
        )
        .order_by(TrackingLink.created_at.desc())
    ):
        if _expires(link, order) > now:
            return link
    return None


def _new_link(session: Session, order: WorkOrder, now: datetime) -> TrackingLink:
    """A new link for the order, made by the server (no user), added to the session."""
    link = TrackingLink(
        tenant_id=order.tenant_id,
        work_order_id=order.id,
        token=new_tracking_token(),
        created_at=now,
        expires_at=now + rules.LINK_LIFETIME,
    )
    session.add(link)
    return link


def _shared(link: TrackingLink, order: WorkOrder, public_url: str) -> SharedLink:
    return SharedLink(tracking_url(public_url, link.token), link.token, _expires(link, order))


def _revoke(session: Session, order: WorkOrder, now: datetime, actor: Actor) -> None:
    """Revoke the order's working links, each an audit event (who cut off the customer)."""
    revoked = session.scalars(
        update(TrackingLink)
        .where(
            TrackingLink.tenant_id == order.tenant_id,
            TrackingLink.work_order_id == order.id,
            TrackingLink.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .returning(TrackingLink.id)
    ).all()
    for link_id in revoked:
        audit.record(session, actor, "revoke", "tracking_link", link_id, {}, work_order_id=order.id)
        # A bulk UPDATE: the live streams' hook sees no object, so it is told (the
        # link's open tracking streams end).
        live.note_row(
            session,
            "tracking_links",
            {"tenant_id": order.tenant_id, "id": link_id, "work_order_id": order.id},
        )


def _check_may_share(actor: Actor) -> None:
    """The office and the order's customer contacts share links; a technician does not
    (their reading of an order is for the job, not for handing it on)."""
    if not (actor.is_office or actor.role is Role.CUSTOMER_CONTACT):
        raise PermissionDenied()
