"""Web Push for a customer who has a tracking link and no account.

From the tracking page, a browser subscribes to *that order*: the link's token is
the credential (as for everything public about tracking), counted by the same
rate limit. When the order reaches a step a customer hears about (technician
assigned, on the way, arrived, work done, cancelled), the worker pushes one
message per subscription, each its own outbox message so one broken browser does
not hold back the others, in the language of the page it subscribed from, opening
the tracking page on a tap. A subscription whose link stopped working (revoked,
rotated, expired) is dropped at its next delivery instead of being sent anything,
as is one the push service says is gone (404, 410). An order has at most
:data:`MAX_SUBSCRIPTIONS` browsers subscribed through its working link (a family's
phones and a laptop fit; one link cannot make each status change a flood of pushes);
one more is ``push.too_many_subscriptions`` until one unsubscribes or the link is
rotated.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db import UnitOfWork, utcnow
from api.http.ratelimit import RateLimiter
from api.notifications.channels import Message, Notifier
from api.outbox.models import OutboxMessage
from api.outbox.services import publish
from api.outbox.worker import Handler
from api.push import vapid
from api.push.errors import PushSubscriptionNotFound, TooManyPushSubscriptions
from api.push.models import TrackingPushSubscription
from api.push.notifier import WebPushNotifier
from api.push.services import SubscribeCommand, check_endpoint, check_keys
from api.tracking import links
from api.tracking.rules import LANGUAGES, TITLES, Step

TOPIC = "tracking.push"
MAX_SUBSCRIPTIONS = 10  # browsers subscribed to one order
# What a customer hears about, and how it reads (the tracking page's step titles).
_STEPS = {
    "assigned": Step.TECHNICIAN_ASSIGNED,
    "en_route": Step.ON_THE_WAY,
    "on_site": Step.ARRIVED,
    "completed": Step.WORK_DONE,
}
_CANCELLED = {"en": "Cancelled", "zh-CN": "已取消"}
_URGENT = {"en_route", "on_site"}  # the moments a customer waits for at the door


@dataclass(frozen=True)
class Visitor:
    token: str
    address: str
    language: str


def vapid_public_key(uow: UnitOfWork, limiter: RateLimiter, visitor: Visitor, secret: str) -> str:
    """The order's tenant's VAPID public key (made on first use, hence a write)."""
    _count(limiter, visitor)
    with uow:
        _, order = links.open_link(uow.session, visitor.token)
        key = vapid.public_key(uow.session, order.tenant_id, secret)
        uow.commit()
        return key


def subscribe(
    uow: UnitOfWork, limiter: RateLimiter, visitor: Visitor, command: SubscribeCommand
) -> TrackingPushSubscription:
    """This browser hears of the link's order; subscribing again updates its keys."""
    check_endpoint(command.endpoint, command.allow_http_loopback)
    check_keys(command.p256dh, command.auth)
    _count(limiter, visitor)
    language = visitor.language if visitor.language in LANGUAGES else "zh-CN"
    with uow:
        session = uow.session
        link, order = links.open_link(session, visitor.token)
        row = _by_endpoint(session, order.tenant_id, order.id, command.endpoint)
        if row is None:
            _check_room(session, order.tenant_id, order.id, link.id)
            row = TrackingPushSubscription(
                tenant_id=order.tenant_id, work_order_id=order.id, endpoint=command.endpoint
            )
            try:
                with session.begin_nested():  # the same browser subscribing twice at once
                    session.add(row)
                    _fill(row, link.id, command, language)
            except IntegrityError:
                row = _by_endpoint(session, order.tenant_id, order.id, command.endpoint)
                assert row is not None
        _fill(row, link.id, command, language)
        uow.commit()
        return row


def _check_room(
    session: Session, tenant_id: uuid.UUID, order_id: uuid.UUID, link_id: uuid.UUID
) -> None:
    """Room for one more browser on the order through its working link (subscriptions
    through a link that stopped working are dropped at their next delivery)."""
    held = session.scalar(
        select(func.count()).where(
            TrackingPushSubscription.tenant_id == tenant_id,
            TrackingPushSubscription.work_order_id == order_id,
            TrackingPushSubscription.link_id == link_id,
        )
    )
    if (held or 0) >= MAX_SUBSCRIPTIONS:
        raise TooManyPushSubscriptions(extra={"max_subscriptions": MAX_SUBSCRIPTIONS})


def unsubscribe(
    uow: UnitOfWork, limiter: RateLimiter, visitor: Visitor, subscription_id: uuid.UUID
) -> None:
    """Stop; only a subscription of the link's own order can be named (else 404)."""
    _count(limiter, visitor)
    with uow:
        _, order = links.open_link(uow.session, visitor.token)
        row = uow.session.scalars(
            select(TrackingPushSubscription).where(
                TrackingPushSubscription.tenant_id == order.tenant_id,
                TrackingPushSubscription.work_order_id == order.id,
                TrackingPushSubscription.id == subscription_id,
            )
        ).one_or_none()
        if row is None:
            raise PushSubscriptionNotFound()
        uow.session.delete(row)
        uow.commit()


def queue_status_change(session: Session, event: dict[str, Any]) -> None:
    """One push per subscription of the order, for a step customers hear about (called
    by the status-change handler, in the worker's transaction)."""
    status = event["to_status"]
    if status not in _STEPS and status != "cancelled":
        return
    tenant_id = uuid.UUID(event["tenant_id"])
    found = session.scalars(
        select(TrackingPushSubscription.id).where(
            TrackingPushSubscription.tenant_id == tenant_id,
            TrackingPushSubscription.work_order_id == uuid.UUID(event["work_order_id"]),
        )
    )
    for subscription_id in found:
        publish(
            session,
            tenant_id,
            TOPIC,
            {
                "tenant_id": str(tenant_id),
                "subscription_id": str(subscription_id),
                "number": event["number"],
                "to_status": status,
            },
        )


def handlers(channels: Sequence[Notifier]) -> dict[str, Handler]:
    """The ``tracking.push`` handler, sending through the Web Push channel (without
    one, as in tests that need no push service, messages are dropped)."""
    push = next((c for c in channels if isinstance(c, WebPushNotifier)), None)

    def deliver(session: Session, message: OutboxMessage) -> None:
        payload = message.payload
        row = session.scalars(
            select(TrackingPushSubscription).where(
                TrackingPushSubscription.tenant_id == uuid.UUID(payload["tenant_id"]),
                TrackingPushSubscription.id == uuid.UUID(payload["subscription_id"]),
            )
        ).one_or_none()
        if row is None or push is None:
            return
        token = links.working_token(session, row.link_id)
        if token is None:
            session.delete(row)  # the link ended: so does what it allowed
            return
        outcome = push.push(session, row.tenant_id, row, _message(message, row, token))
        if outcome == "gone":
            session.delete(row)
        elif outcome == "delivered":
            row.last_delivered_at = utcnow()

    return {TOPIC: deliver}


def _message(message: OutboxMessage, row: TrackingPushSubscription, token: str) -> Message:
    payload = message.payload
    status = payload["to_status"]
    step = _STEPS.get(status)
    text = TITLES[step][row.language] if step is not None else _CANCELLED[row.language]
    return Message(
        notification_id=message.id,
        title=f"{payload['number']} · {text}",
        body=None,
        data={"notification_id": str(message.id), "to_status": status},
        url=f"/t/{token}",
        urgent=status in _URGENT,
    )


def _fill(
    row: TrackingPushSubscription, link_id: uuid.UUID, command: SubscribeCommand, language: str
) -> None:
    row.link_id, row.p256dh, row.auth = link_id, command.p256dh, command.auth
    row.language, row.created_at = language, utcnow()


def _count(limiter: RateLimiter, visitor: Visitor) -> None:
    links.check_shape(visitor.token)  # what cannot be a token is refused uncounted
    limiter.hit(f"tracking-token:{visitor.token}", f"tracking-ip:{visitor.address}")


def _by_endpoint(
    session: Session, tenant_id: uuid.UUID, order_id: uuid.UUID, endpoint: str
) -> TrackingPushSubscription | None:
    return session.scalars(
        select(TrackingPushSubscription)
        .where(
            TrackingPushSubscription.tenant_id == tenant_id,
            TrackingPushSubscription.work_order_id == order_id,
            TrackingPushSubscription.endpoint == endpoint,
        )
        .with_for_update()
    ).one_or_none()
