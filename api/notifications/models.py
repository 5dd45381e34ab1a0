"""The notification table (one row per recipient, in the recipient's language) and each
person's choice of how notifications reach them outside the app."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, TenantOwned, enum_type, new_id, utcnow


class Notification(Base, TenantOwned):
    __tablename__ = "notifications"
    __table_args__ = (
        # The worker may run a message twice; this makes the second run a no-op.
        UniqueConstraint("source_message_id", "user_id"),
        Index("ix_notifications_user", "tenant_id", "user_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    # The recipient's language when it was made; title and body are in it.
    locale: Mapped[str] = mapped_column(String(16), default="zh-CN")
    title: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))  # always English
    body: Mapped[str | None] = mapped_column(Text)  # e.g. the reason given
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source_message_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class EmailChoice(StrEnum):
    WHEN_NO_PUSH = "when_no_push"  # the default: email only if no browser is subscribed
    ALWAYS = "always"
    NEVER = "never"


class NotificationPreference(Base, TenantOwned):
    """A person's choice; no row means the defaults."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[EmailChoice] = mapped_column(
        enum_type(EmailChoice), default=EmailChoice.WHEN_NO_PUSH
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
