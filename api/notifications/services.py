"""Reading one's notifications and marking them read. Nobody sees another's."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.db import UnitOfWork, utcnow
from api.http.pagination import Page, paginate
from api.notifications.errors import NotificationNotFound
from api.notifications.models import EmailChoice, Notification, NotificationPreference


def list_notifications(
    session: Session, actor: Actor, *, limit: int, cursor: str | None, unread: bool | None = None
) -> Page:
    stmt = select(Notification).where(
        Notification.tenant_id == actor.tenant_id, Notification.user_id == actor.user_id
    )
    if unread is True:
        stmt = stmt.where(Notification.read_at.is_(None))
    elif unread is False:
        stmt = stmt.where(Notification.read_at.is_not(None))
    return paginate(session, stmt, Notification.id, limit=limit, cursor=cursor, descending=True)


def mark_read(uow: UnitOfWork, actor: Actor, notification_id: uuid.UUID) -> Notification:
    with uow:
        notification = uow.session.scalars(
            select(Notification).where(
                Notification.id == notification_id,
                Notification.tenant_id == actor.tenant_id,
                Notification.user_id == actor.user_id,
            )
        ).one_or_none()
        if notification is None:
            raise NotificationNotFound()
        if notification.read_at is None:
            notification.read_at = utcnow()
        uow.commit()
        return notification


def mark_all_read(uow: UnitOfWork, actor: Actor) -> int:
    with uow:
        result = uow.session.execute(
            update(Notification)
            .where(
                Notification.tenant_id == actor.tenant_id,
                Notification.user_id == actor.user_id,
                Notification.read_at.is_(None),
            )
            .values(read_at=utcnow())
        )
        uow.commit()
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def email_choice(session: Session, actor: Actor) -> EmailChoice:
    found = session.scalar(
        select(NotificationPreference.email).where(
            NotificationPreference.tenant_id == actor.tenant_id,
            NotificationPreference.user_id == actor.user_id,
        )
    )
    return found or EmailChoice.WHEN_NO_PUSH


def set_email_choice(uow: UnitOfWork, actor: Actor, choice: EmailChoice) -> EmailChoice:
    assert actor.user_id is not None  # Permission.SELF: people only
    with uow:
        row = uow.session.get(NotificationPreference, actor.user_id, with_for_update=True)
        if row is None:
            row = NotificationPreference(tenant_id=actor.tenant_id, user_id=actor.user_id)
            uow.session.add(row)
        row.email, row.updated_at = choice, utcnow()
        uow.commit()
        return choice
