"""Tracking links and customer ratings.

A link's ``token`` is global and unguessable (192 random bits): it is the only
credential of the public tracking endpoints, so a row also carries its tenant
and order, never the other way round. Links are never deleted by the API; a
revoked or rotated link keeps its row with ``revoked_at`` set, so an old SMS
answers "not found" rather than pointing at a newer link.

One rating per work order (``UNIQUE (work_order_id)``), so two taps racing each
other cannot both count.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, TenantOwned, new_id, utcnow


def new_tracking_token() -> str:
    """An unguessable link token (192 random bits, URL-safe, 32 characters)."""
    return secrets.token_urlsafe(24)


class TrackingLink(Base, TenantOwned):
    __tablename__ = "tracking_links"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(String(43), unique=True, default=new_tracking_token)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[uuid.UUID | None]  # the user who made (or rotated to) it
    # The latest it can live; completion shortens it (api.tracking.rules.expiry).
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class WorkOrderRating(Base, TenantOwned):
    """The customer's satisfaction rating (CSAT) of a finished order."""

    __tablename__ = "work_order_ratings"
    __table_args__ = (CheckConstraint("score >= 1 AND score <= 5", name="score_range"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), unique=True
    )
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime] = mapped_column(default=utcnow)
    link_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tracking_links.id", ondelete="SET NULL")
    )
