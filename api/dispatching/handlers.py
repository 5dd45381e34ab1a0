"""Outbox handlers: run the tenant's dispatch policy on a new order; tell a technician
of an offer (in the app, and by Web Push or email through the notification channels)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.dispatching.offers import STRAIGHT, dispatch_order
from api.notifications import delivery
from api.notifications.models import Notification
from api.outbox.models import OutboxMessage
from api.outbox.worker import Handler
from api.users.models import User
from dispatch import offers as chain
from dispatch.routing import Router

_TITLE = {
    "zh-CN": "新派单 {number}：{title}，请在 {time} 前接受或拒绝",
    "en": "New job offered, {number}: {title}; accept or decline by {time}",
}


def dispatch_handler(router: Router = STRAIGHT) -> Handler:
    """The handler of ``work_order.dispatch_requested``, ranking with ``router``."""

    def run_dispatch(session: Session, message: OutboxMessage) -> None:
        payload = message.payload
        dispatch_order(
            session,
            uuid.UUID(payload["tenant_id"]),
            uuid.UUID(payload["work_order_id"]),
            chain.Mode(payload["mode"]),
            router,
        )

    return run_dispatch


def notify_offered(session: Session, message: OutboxMessage) -> None:
    payload = message.payload
    if payload.get("user_id") is None:
        return  # a technician without a login hears of it at their next sync
    tenant_id, user_id = uuid.UUID(payload["tenant_id"]), uuid.UUID(payload["user_id"])
    user = session.scalar(select(User).where(User.tenant_id == tenant_id, User.id == user_id))
    already = session.scalar(
        select(Notification.id).where(Notification.source_message_id == message.id)
    )
    if user is None or not user.active or already is not None:
        return
    locale = user.locale if user.locale in _TITLE else "zh-CN"
    time = datetime.fromisoformat(payload["expires_at"]).strftime("%H:%M UTC")
    values = {"number": payload["number"], "title": payload["title"], "time": time}
    delivery.add(
        session,
        Notification(
            tenant_id=tenant_id,
            user_id=user.id,
            kind="work_order.offered",
            locale=locale,
            title=_TITLE[locale].format(**values),
            title_en=_TITLE["en"].format(**values),
            body=None,
            data={
                "offer_id": payload["offer_id"],
                "work_order_id": payload["work_order_id"],
                "expires_at": payload["expires_at"],
            },
            source_message_id=message.id,
        ),
    )
