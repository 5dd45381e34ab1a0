"""Outbox handler: ask a technician to confirm an arrival their fixes suggest, with
the evidence behind it (first and last fix inside the fence, and how many)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

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
_BODY = {
    "zh-CN": "围栏内首个定位 {first}（距现场 {distance} 米），最后 {last}，共 {fixes} 个定位",
    "en": "First fix inside {first} ({distance} m from the site), last {last}, {fixes} fixes",
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
    evidence = payload.get("evidence")  # absent from messages queued before it was kept
    delivery.add(
        session,
        Notification(
            tenant_id=tenant_id,
            user_id=user.id,
            kind="work_order.arrival_suggested",
            locale=locale,
            title=_TITLE[locale].format(number=payload["number"], time=time),
            title_en=_TITLE["en"].format(number=payload["number"], time=time),
            body=_body(evidence, locale),
            data={
                "work_order_id": payload["work_order_id"],
                "arrived_at": payload["arrived_at"],
                "evidence": evidence,
            },
            source_message_id=message.id,
        ),
    )


def _body(evidence: dict[str, Any] | None, locale: str) -> str | None:
    if evidence is None:
        return None

    def clock(sighting: dict[str, Any]) -> str:
        return datetime.fromisoformat(sighting["fixed_at"]).strftime("%H:%M:%S")

    first = evidence["first"]
    return _BODY[locale].format(
        first=clock(first),
        distance=round(first["distance_m"]),
        last=clock(evidence["last"]),
        fixes=evidence["fixes"],
    )
