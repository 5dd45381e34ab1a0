"""Outbox handlers that turn domain events into in-app notifications.

Run by the worker. The unique (message, user) constraint makes a re-run of the
same message a no-op, so a worker crash between the handler and its commit
can never notify anyone twice.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.customers.models import Contact
from api.notifications.models import Notification
from api.outbox.models import OutboxMessage
from api.technicians.models import Technician

# Statuses a customer hears about; the rest is internal choreography.
_CUSTOMER_VISIBLE = {"assigned", "en_route", "on_site", "completed", "cancelled"}

_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "new": ("新建", "new"),
    "assigned": ("已派工", "assigned"),
    "accepted": ("已接单", "accepted"),
    "en_route": ("已出发", "on the way"),
    "on_site": ("已到达现场", "on site"),
    "in_progress": ("处理中", "in progress"),
    "paused": ("已暂停", "paused"),
    "completed": ("已完成", "completed"),
    "closed": ("已关闭", "closed"),
    "cancelled": ("已取消", "cancelled"),
}


def notify_status_change(session: Session, message: OutboxMessage) -> None:
    payload = message.payload
    tenant_id = uuid.UUID(payload["tenant_id"])
    to_status = payload["to_status"]
    actor_id = payload.get("actor_id")
    recipients: set[uuid.UUID] = set()
    if payload.get("assignee_id"):
        user_id = session.scalars(
            select(Technician.user_id).where(
                Technician.id == uuid.UUID(payload["assignee_id"]),
                Technician.tenant_id == tenant_id,
            )
        ).first()
        if user_id:
            recipients.add(user_id)
    if payload.get("created_by"):
        recipients.add(uuid.UUID(payload["created_by"]))
    if to_status in _CUSTOMER_VISIBLE:
        recipients.update(
            uid
            for uid in session.scalars(
                select(Contact.user_id).where(
                    Contact.customer_id == uuid.UUID(payload["customer_id"]),
                    Contact.tenant_id == tenant_id,
                    Contact.user_id.is_not(None),
                )
            )
            if uid is not None
        )
    if actor_id:
        recipients.discard(uuid.UUID(actor_id))  # nobody is told about their own action
    zh, en = _STATUS_LABELS.get(to_status, (to_status, to_status))
    number = payload["number"]
    for user_id in sorted(recipients):
        exists = session.scalars(
            select(Notification.id).where(
                Notification.source_message_id == message.id, Notification.user_id == user_id
            )
        ).first()
        if exists:
            continue
        session.add(
            Notification(
                tenant_id=tenant_id,
                user_id=user_id,
                kind="work_order.status_changed",
                title=f"工单 {number} {zh}",
                title_en=f"Work order {number} is {en}",
                data={
                    "work_order_id": payload["work_order_id"],
                    "from_status": payload.get("from_status"),
                    "to_status": to_status,
                },
                source_message_id=message.id,
            )
        )
