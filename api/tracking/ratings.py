"""The customer's satisfaction rating (CSAT), given once through the tracking link.

Only a finished order (completed or closed) can be rated, and only once: a
second rating, even one racing the first from another phone, is 409
``tracking.already_rated`` (the database's unique key decides the race).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.db import UnitOfWork, utcnow
from api.http.ratelimit import RateLimiter
from api.tracking import links
from api.tracking.errors import AlreadyRated, NotCompletedYet, NotRated
from api.tracking.models import WorkOrderRating
from api.workorders import queries
from api.workorders.states import Status

FINISHED = (Status.COMPLETED, Status.CLOSED)


def rate_order(
    uow: UnitOfWork,
    limiter: RateLimiter,
    token: str,
    address: str,
    data: Mapping[str, Any],
) -> WorkOrderRating:
    """Keep the rating of the order a working token names."""
    links.check_shape(token)
    limiter.hit(f"tracking-token:{token}", f"tracking-ip:{address}")
    with uow:
        session = uow.session
        link, order = links.open_link(session, token)
        if order.status not in FINISHED:
            raise NotCompletedYet()
        if _find(session, order.tenant_id, order.id) is not None:
            raise AlreadyRated()
        comment = (data.get("comment") or "").strip() or None
        rating = WorkOrderRating(
            tenant_id=order.tenant_id,
            work_order_id=order.id,
            score=data["score"],
            comment=comment,
            rated_at=utcnow(),
            link_id=link.id,
        )
        session.add(rating)
        try:
            session.flush()  # the unique key settles a race with another phone here
        except IntegrityError:
            raise AlreadyRated() from None
        uow.commit()
    return rating


def order_rating(session: Session, actor: Actor, work_order_id: uuid.UUID) -> WorkOrderRating:
    """The order's rating, for whoever may read the order."""
    order = queries.access_work_order(session, actor, work_order_id)
    rating = _find(session, order.tenant_id, order.id)
    if rating is None:
        raise NotRated()
    return rating


def _find(session: Session, tenant_id: uuid.UUID, order_id: uuid.UUID) -> WorkOrderRating | None:
    return session.scalars(
        select(WorkOrderRating).where(
            WorkOrderRating.tenant_id == tenant_id, WorkOrderRating.work_order_id == order_id
        )
    ).one_or_none()
