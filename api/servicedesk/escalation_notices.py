"""Outbox handler: tell the people an escalation names, in their language, through every channel.

Each recipient gets an in-app notification, which :func:`api.notifications.delivery.add`
sends on through the notifier port (Web Push, email). The (message, user)
unique constraint and the check below make a re-run of the same message a no-op.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from api.notifications import delivery
from api.notifications.models import Notification
from api.outbox.models import OutboxMessage

KIND = "work_order.escalated"
_TITLE = {
    "zh-CN": "工单 {number} 已升级（{level} 级）：{rule}",
    "en": "Work order {number} escalated (level {level}): {rule}",
}
_BODY = {
    "notify_supervisor": ("请班组主管跟进", "The team supervisor is asked to follow up"),
    "notify_managers": ("请服务经理跟进", "The service managers are asked to follow up"),
    "notify_assignee": ("请尽快处理", "Please act on it now"),
    "raise_priority": ("优先级已提高", "Its priority was raised"),
}


def notify_escalation(session: Session, message: OutboxMessage) -> None:
    payload = message.payload
    tenant_id = uuid.UUID(payload["tenant_id"])
    wanted = [uuid.UUID(u) for u in payload.get("recipients") or []]
    for user_id, user_locale in delivery.still_to_tell(session, tenant_id, message.id, wanted):
        locale = user_locale if user_locale in _TITLE else "zh-CN"
        words = {
            "number": payload["number"],
            "level": payload["level"],
            "rule": payload["rule"],
        }
        body = _BODY.get(payload["action"], ("", ""))
        delivery.add(
            session,
            Notification(
                tenant_id=tenant_id,
                user_id=user_id,
                kind=KIND,
                locale=locale,
                title=_TITLE[locale].format(**words)[:300],
                title_en=_TITLE["en"].format(**words)[:300],
                body=body[0] if locale == "zh-CN" else body[1],
                data={
                    "work_order_id": payload["work_order_id"],
                    "escalation_id": payload["escalation_id"],
                    "level": payload["level"],
                    "action": payload["action"],
                },
                source_message_id=message.id,
            ),
        )
