"""Every text the app decided to send (and why one was not), and numbers that opted out.

An :class:`SmsMessage` is written when a step of an order is worth a text: it is
``pending`` until the provider takes it (``sent``), ``failed`` when the provider
refused it for good or kept failing past ``FIELDLINE_SMS_MAX_ATTEMPTS``, and
``suppressed`` when it was never sent (the number opted out, or its per-number
limit was reached). ``reason`` says why for the last two. One row per outbox
message (``UNIQUE (source_message_id)``): a re-run of a handler texts nobody twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, TenantOwned, enum_type, new_id, utcnow


class SmsStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


class SmsMessage(Base, TenantOwned):
    __tablename__ = "sms_messages"
    __table_args__ = (Index("ix_sms_messages_phone", "tenant_id", "phone", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    source_message_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    phone: Mapped[str] = mapped_column(String(20))  # E.164
    kind: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[SmsStatus] = mapped_column(enum_type(SmsStatus), default=SmsStatus.PENDING)
    reason: Mapped[str | None] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class SmsOptOut(Base, TenantOwned):
    """A number that is not to be texted by this tenant (the customer asked the office,
    or replied STOP to the provider)."""

    __tablename__ = "sms_opt_outs"
    __table_args__ = (UniqueConstraint("tenant_id", "phone"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    phone: Mapped[str] = mapped_column(String(20))  # E.164
    source: Mapped[str] = mapped_column(String(16))  # office | provider
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[uuid.UUID | None]
