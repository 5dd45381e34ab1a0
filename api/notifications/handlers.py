"""Outbox handlers that turn domain events into in-app notifications.

Run by the worker. A notification speaks its recipient's language (their user
locale, which defaults to the tenant's; never the actor's ``Accept-Language``),
names the step that happened, and carries the reason given with it
(:mod:`api.notifications.texts`). The unique (message, user) constraint makes a
re-run of the same message a no-op, so a worker crash between the handler and
its commit can never notify anyone twice.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.permissions import Role
from api.customers.models import Contact
from api.notifications import delivery, texts
from api.notifications.models import Notification
from api.outbox.models import OutboxMessage
from api.push import tracking as tracking_push
from api.sms import orders as sms_orders
from api.technicians.models import Technician
from api.users.models import User

# Statuses a customer hears about; the rest is internal choreography.
_CUSTOMER_VISIBLE = {"assigned", "en_route", "on_site", "completed", "cancelled"}


def notify_status_change(session: Session, message: OutboxMessage) -> None:
    payload = message.payload
    tenant_id = uuid.UUID(payload["tenant_id"])
    recipients = _recipients(session, tenant_id, payload)
    if payload.get("actor_id"):
        recipients.discard(uuid.UUID(payload["actor_id"]))  # nobody is told of their own action
    already = set(
        session.scalars(
            select(Notification.user_id).where(Notification.source_message_id == message.id)
        )
    )
    people = session.execute(
        select(User.id, User.locale, User.role).where(
            User.tenant_id == tenant_id, User.id.in_(sorted(recipients - already))
        )
    ).all()
    action = str(payload.get("action") or "")
    for user_id, locale, role in sorted(people):
        reason = payload.get("reason")
        if role is Role.CUSTOMER_CONTACT and action not in texts.CUSTOMER_REASONS:
            reason = None  # an internal remark, as in the history customers see
        text = texts.status_changed(action, payload["number"], reason, locale)
        delivery.add(
            session,
            Notification(
                tenant_id=tenant_id,
                user_id=user_id,
                kind="work_order.status_changed",
                locale=text.locale,
                title=text.title,
                title_en=text.title_en,
                body=text.body,
                data={
                    "work_order_id": payload["work_order_id"],
                    "action": action,
                    "from_status": payload.get("from_status"),
                    "to_status": payload["to_status"],
                    "reason": reason,
                    "occurred_at": payload.get("occurred_at"),
                },
                source_message_id=message.id,
            ),
        )
    # Customers who follow the order from its tracking page, with no account.
    tracking_push.queue_status_change(session, payload)
    # ... and by text to the customer's phone, when an SMS provider is configured.
    sms_orders.queue_status_change(session, payload)


def _recipients(session: Session, tenant_id: uuid.UUID, payload: dict[str, Any]) -> set[uuid.UUID]:
    """The assignee's user, the order's creator, and its customer's contacts for the
    statuses a customer hears about."""
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
    if payload["to_status"] in _CUSTOMER_VISIBLE:
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
    return recipients
