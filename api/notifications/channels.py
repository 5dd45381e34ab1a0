"""The notifier port: ways a notification leaves the app (Web Push, email; SMS later).

A :class:`Notifier` names the targets it would reach for one person (their
browsers' subscriptions, their address) and sends one notification to one
target. :mod:`api.notifications.delivery` runs each send as its own outbox
message, so a push service's 500 retries that browser alone, with the outbox's
backoff. A send raises :class:`DeliveryFailed` (or any error) to be retried and
returns normally when the target is done with, delivered or gone for good.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from api.notifications.models import Notification
from api.users.models import User

# Statuses a customer waits for: pushed with Urgency: high (a phone wakes for them).
URGENT_STATUSES = frozenset({"assigned", "en_route", "on_site", "completed", "cancelled"})


class DeliveryFailed(Exception):
    """A transient failure (a 5xx, a timeout): the outbox tries again later."""


@dataclass(frozen=True)
class Message:
    """What every channel says: the notification in its recipient's language."""

    notification_id: uuid.UUID
    title: str
    body: str | None
    data: dict[str, Any]
    url: str
    urgent: bool

    @classmethod
    def of(cls, notification: Notification) -> Message:
        data = dict(notification.data or {})
        order = data.get("work_order_id")
        return cls(
            notification_id=notification.id,
            title=notification.title,
            body=notification.body,
            data={"kind": notification.kind, "notification_id": str(notification.id), **data},
            # The page to open on a tap, on the origin that serves the service worker.
            url=f"/work-orders/{order}" if order else "/",
            urgent=notification.kind == "work_order.status_changed"
            and data.get("to_status") in URGENT_STATUSES,
        )


class Notifier(Protocol):
    name: str

    def targets(self, session: Session, user: User) -> list[str]:
        """Where this channel would reach ``user`` now; empty if it cannot."""
        ...

    def send(self, session: Session, user: User, message: Message, target: str) -> None:
        """Deliver to one target; raise to be retried."""
        ...


def choose(session: Session, user: User, notifiers: list[Notifier]) -> list[tuple[str, str]]:
    """(channel, target) pairs for ``user``: the first channel, in preference order,
    that reaches them (Web Push before email: a subscribed browser is what they
    asked for, and an email as well would say everything twice)."""
    for notifier in notifiers:
        targets = notifier.targets(session, user)
        if targets:
            return [(notifier.name, target) for target in targets]
    return []
