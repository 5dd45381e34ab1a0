"""Notifications leave the app through the outbox: one fan-out, then one send per target.

Whoever creates a :class:`Notification` stores it with :func:`add`, which
queues its delivery in the same transaction. The worker's ``notification.deliver``
handler picks the channels that reach the recipient
(:func:`api.notifications.channels.choose`) and publishes one ``notification.send``
per (channel, target); each send is retried on its own with the outbox's backoff,
so one broken browser does not resend to the others. Both handlers commit with
their message, so a fan-out runs once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.config import Config
from api.db import new_id
from api.notifications.channels import Message, Notifier, choose
from api.notifications.email import EmailNotifier, SmtpSettings
from api.notifications.models import EmailChoice, Notification, NotificationPreference
from api.outbox.models import OutboxMessage
from api.outbox.services import publish
from api.outbox.worker import Handler
from api.users.models import User

DELIVER = "notification.deliver"
SEND = "notification.send"


def add(session: Session, notification: Notification) -> None:
    """Store a new notification and deliver it once this transaction commits."""
    if notification.id is None:
        notification.id = new_id()  # the outbox message names it before any flush
    session.add(notification)
    payload = {"tenant_id": str(notification.tenant_id), "notification_id": str(notification.id)}
    publish(session, notification.tenant_id, DELIVER, payload)


def still_to_tell(
    session: Session,
    tenant_id: uuid.UUID,
    message_id: uuid.UUID,
    candidates: Iterable[uuid.UUID],
) -> list[tuple[uuid.UUID, str | None]]:
    """The active users among ``candidates`` that the outbox message ``message_id`` has not
    yet notified (a re-run of its handler tells nobody twice), with their locale, by id."""
    already = set(
        session.scalars(
            select(Notification.user_id).where(Notification.source_message_id == message_id)
        )
    )
    people = session.execute(
        select(User.id, User.locale).where(
            User.tenant_id == tenant_id,
            User.active.is_(True),
            User.id.in_(sorted(set(candidates) - already)),
        )
    ).all()
    return sorted((user_id, locale) for user_id, locale in people)


def notifiers(config: Config) -> list[Notifier]:
    """The channels this configuration offers, in preference order."""
    from api.push.notifier import WebPushNotifier

    channels: list[Notifier] = [
        WebPushNotifier(
            config.resolved_secret_key(),
            config.vapid_subject,
            config.push_ttl_seconds,
            allow_loopback=config.push_allow_http_loopback,
        )
    ]
    if config.smtp_host:
        settings = SmtpSettings(
            host=config.smtp_host,
            port=config.smtp_port,
            sender=config.smtp_from,
            username=config.smtp_username,
            password=config.smtp_password,
            starttls=config.smtp_starttls,
        )
        channels.append(EmailNotifier(settings))
    if config.sms_provider:
        from api.sms.notifier import SmsNotifier

        channels.append(SmsNotifier(config.sms_settings()))
    return channels


def handlers(channels: Sequence[Notifier]) -> dict[str, Handler]:
    by_name = {channel.name: channel for channel in channels}

    def deliver(session: Session, message: OutboxMessage) -> None:
        found = _load(session, message)
        if found is None:
            return
        notification, user = found
        choice = session.scalar(
            select(NotificationPreference.email).where(
                NotificationPreference.tenant_id == user.tenant_id,
                NotificationPreference.user_id == user.id,
            )
        )
        for channel, target in choose(
            session, user, list(channels), choice or EmailChoice.WHEN_NO_PUSH
        ):
            payload = {**message.payload, "channel": channel, "target": target}
            publish(session, notification.tenant_id, SEND, payload)

    def send(session: Session, message: OutboxMessage) -> None:
        found = _load(session, message)
        channel = by_name.get(message.payload["channel"])
        if found is None or channel is None:
            return  # the notification is gone, or this worker no longer offers the channel
        notification, user = found
        channel.send(session, user, Message.of(notification), message.payload["target"])

    return {DELIVER: deliver, SEND: send}


def _load(session: Session, message: OutboxMessage) -> tuple[Notification, User] | None:
    tenant_id = uuid.UUID(message.payload["tenant_id"])
    row = session.execute(
        select(Notification, User)
        .join(User, User.id == Notification.user_id)
        .where(
            Notification.tenant_id == tenant_id,
            Notification.id == uuid.UUID(message.payload["notification_id"]),
            User.tenant_id == tenant_id,
            User.active.is_(True),
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])
