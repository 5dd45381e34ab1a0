"""Outbox handler: ask a technician to confirm an arrival their fixes suggest."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.notifications import delivery
from api.notifications.models import Notification
from api.outbox.models import OutboxMessage
from api.users.models import User

_TITLE = {
    "zh-CN": "工单 {number}：您似乎已于 {time} 到达现场，请确认到达",
    "en": "Work order {number}: you seem to have arrived at {time}; please confirm",
}


def notify_arrival_suggested(session: Session, message: OutboxMessage) -> None:
    payload = message.payload
    if payload.get("user_id") is None:
        return
    tenant_id, user_id = uuid.UUID(payload["tenant_id"]), uuid.UUID(payload["user_id"])
    user = session.scalar(select(User).where(User.tenant_id == tenant_id, User.id == user_id))
    already = session.scalar(
        select(Notification.id).where(Notification.source_message_id == message.id)
    )
    if user is None or already is not None:
        return  # gone, or told already (a re-run of the same message)
    locale = user.locale if user.locale in _TITLE else "zh-CN"
    time = datetime.fromisoformat(payload["arrived_at"]).strftime("%H:%M UTC")
    delivery.add(
        session,
        Notification(
            tenant_id=tenant_id,
            user_id=user.id,
            kind="work_order.arrival_suggested",
            locale=locale,
            title=_TITLE[locale].format(number=payload["number"], time=time),
            title_en=_TITLE["en"].format(number=payload["number"], time=time),
            body=None,
            data={"work_order_id": payload["work_order_id"], "arrived_at": payload["arrived_at"]},
            source_message_id=message.id,
        ),
    )
