"""Position tables: every kept fix (append-only), and each technician's latest.

``technician_positions`` grows by millions of rows, so it is lean: its primary key
``(tenant_id, device_id, fixed_at)`` is also the deduplication rule (a resent fix
is the same row), and ``(tenant_id, technician_id, fixed_at)`` serves trails and
retention. Rows are never updated; the retention purge deletes them in small
batches (:func:`api.location.services.purge_positions`).

``technician_locations`` holds one row per technician: the newest kept fix, moved
only forward in fix time by a conditional upsert, so a late batch of old fixes
never moves it back.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, utcnow


def _ranges() -> tuple[CheckConstraint, CheckConstraint]:
    return (
        CheckConstraint("lat >= -90 AND lat <= 90", name="lat_range"),
        CheckConstraint("lon >= -180 AND lon <= 180", name="lon_range"),
    )


class Position(Base):
    __tablename__ = "technician_positions"
    __table_args__ = (
        *_ranges(),
        Index("ix_technician_positions_trail", "tenant_id", "technician_id", "fixed_at"),
        # One key, not one per column: the fix's technician is of the fix's tenant, and
        # a bulk insert checks one reference per row instead of two (migration 0044).
        ForeignKeyConstraint(
            ["tenant_id", "technician_id"],
            ["technicians.tenant_id", "technicians.id"],
            ondelete="CASCADE",
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    fixed_at: Mapped[datetime] = mapped_column(primary_key=True)
    technician_id: Mapped[uuid.UUID]
    lat: Mapped[float]
    lon: Mapped[float]
    accuracy_m: Mapped[float | None]
    speed_mps: Mapped[float | None]
    heading_deg: Mapped[float | None]
    altitude_m: Mapped[float | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class CurrentLocation(Base):
    __tablename__ = "technician_locations"
    __table_args__ = _ranges()

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    technician_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("technicians.id", ondelete="CASCADE"), primary_key=True
    )
    device_id: Mapped[str] = mapped_column(String(128))
    fixed_at: Mapped[datetime]
    lat: Mapped[float]
    lon: Mapped[float]
    accuracy_m: Mapped[float | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Visit(Base):
    """A work order's geofenced visit: when its technician's fixes showed them
    arrive at the site and leave it. Each time is set once, then kept."""

    __tablename__ = "work_order_visits"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True
    )
    technician_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("technicians.id", ondelete="CASCADE")
    )
    arrived_at: Mapped[datetime]
    left_at: Mapped[datetime | None]
    # "recorded": the order was moved on site; "suggested": the technician was asked.
    arrival: Mapped[str] = mapped_column(String(16))
    # What decided each time (dispatch.geofence.Evidence in its wire form, see
    # api.location.evidence); None for visits detected before evidence was kept.
    arrival_evidence: Mapped[dict[str, Any] | None]
    departure_evidence: Mapped[dict[str, Any] | None]
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
