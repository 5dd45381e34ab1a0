"""The notifier port: ways a notification leaves the app (Web Push, email, SMS).

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

from api.notifications.models import EmailChoice, Notification
from api.users.models import User

EMAIL = "email"  # the channel a person's EmailChoice governs

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
            urgent=(
                notification.kind == "work_order.status_changed"
                and data.get("to_status") in URGENT_STATUSES
            )
            or notification.kind == "work_order.escalated",  # someone must act now
        )


class Notifier(Protocol):
    name: str

    def targets(self, session: Session, user: User) -> list[str]:
        """Where this channel would reach ``user`` now; empty if it cannot."""
        ...

    def send(self, session: Session, user: User, message: Message, target: str) -> None:
        """Deliver to one target; raise to be retried."""
        ...


def choose(
    session: Session,
    user: User,
    notifiers: list[Notifier],
    email: EmailChoice = EmailChoice.WHEN_NO_PUSH,
) -> list[tuple[str, str]]:
    """(channel, target) pairs for ``user``: every subscribed browser, and email as the
    person chose: by default only when no browser is subscribed (a subscribed browser
    is what they asked for, and an email as well would say everything twice)."""
    chosen: list[tuple[str, str]] = []
    for notifier in notifiers:
        if notifier.name == EMAIL and (
            email is EmailChoice.NEVER or (email is EmailChoice.WHEN_NO_PUSH and chosen)
        ):
            continue
        chosen += [(notifier.name, target) for target in notifier.targets(session, user)]
    return chosen
