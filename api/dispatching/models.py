"""Auto-dispatch tables: each order's dispatch, and the offers made to technicians.

``work_order_dispatches`` holds one row per order the tenant's policy acted on
(its primary key is the order: inserting it is how a worker claims the order,
exactly once). ``work_order_offers`` holds every offer; three unique keys make
the rules of :mod:`dispatch.offers` hold whatever workers race: one offer per
order and attempt, one per order and technician, and (a partial index) at most
one pending offer per order. Offers are technician-owned records the device
pulls (PROTOCOL.md § 8.9), with a ``version`` for ETags.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, TenantOwned, Timestamped, Versioned, new_id

_PENDING = text("state = 'pending'")


class Offer(Base, TenantOwned, Timestamped, Versioned):
    __tablename__ = "work_order_offers"
    __table_args__ = (
        UniqueConstraint("work_order_id", "attempt"),
        UniqueConstraint("work_order_id", "technician_id"),
        Index(
            "uq_work_order_offers_pending",
            "work_order_id",
            unique=True,
            sqlite_where=_PENDING,
            postgresql_where=_PENDING,
        ),
        # The timeout sweep's range scan: pending offers by expiry.
        Index(
            "ix_work_order_offers_due",
            "expires_at",
            sqlite_where=_PENDING,
            postgresql_where=_PENDING,
        ),
        Index("ix_work_order_offers_technician", "tenant_id", "technician_id", "state"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE")
    )
    technician_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("technicians.id", ondelete="CASCADE")
    )
    attempt: Mapped[int]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    # What the technician decides on, copied at offer time (the order is not in their
    # scope until they accept it).
    number: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    site_address: Mapped[str] = mapped_column(String(500))
    distance_m: Mapped[int]
    travel_s: Mapped[int]
    score: Mapped[float]
    offered_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(String(1000))  # a decline's, or why it ended


class Dispatch(Base, TenantOwned):
    """What the tenant's dispatch policy did with one order."""

    __tablename__ = "work_order_dispatches"
    __table_args__ = (Index("ix_work_order_dispatches_queue", "tenant_id", "state"),)

    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True
    )
    mode: Mapped[str] = mapped_column(String(16))
    # offering, assigned, suggested, queued (the dispatcher's), stopped (the office acted)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(1000))
    reason_code: Mapped[str | None] = mapped_column(String(32))
    suggested_technician_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("technicians.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    @property
    def id(self) -> uuid.UUID:
        """Keyset pages go by ``id``; a dispatch is keyed by its order."""
        return self.work_order_id
