"""Evidence tables. Every row carries the columns of :class:`EvidenceRecord`.

Quantities and reading values are stored as the protocol's canonical decimal
strings (PROTOCOL.md § 3.2): exact, and the same bytes on SQLite and
PostgreSQL, so checksums of pulled rows agree with what devices wrote.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from api.db import Base, TenantOwned, new_id, utcnow


class EvidenceRecord(TenantOwned):
    """Who added the item (from which device, at which HLC, when) and whether it is voided."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)

    @declared_attr
    def work_order_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)

    author_kind: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[uuid.UUID | None]
    device_id: Mapped[uuid.UUID | None]
    hlc: Mapped[str | None] = mapped_column(String(90))
    # SHA-256 of the adding mutation's canonical arguments: the same ID sent again
    # with other content is told apart from a replay (``sync.id_reused``).
    content_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # when the server stored it
    # When it was recorded where it was recorded: the device's time for a synced
    # item (skew-corrected, never after created_at; PROTOCOL.md § 7.3).
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    voided_at: Mapped[datetime | None]
    voided_by: Mapped[uuid.UUID | None]
    void_reason: Mapped[str | None] = mapped_column(String(1000))
    void_hlc: Mapped[str | None] = mapped_column(String(90))


def _visibility(default: str) -> Mapped[str]:
    """Who may see an item besides staff, as for notes: ``internal`` (staff only) or
    ``customer`` (also the customer's contacts), with a default per kind. The server
    keeps it: it is not part of the synced row image."""
    return mapped_column(String(16), default=default, server_default=default)


class AssetEvidence:
    @declared_attr
    def asset_id(cls) -> Mapped[uuid.UUID | None]:
        return mapped_column(ForeignKey("assets.id", ondelete="RESTRICT"))


class PartUsed(Base, EvidenceRecord, AssetEvidence):
    __tablename__ = "work_order_parts"

    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[str] = mapped_column(String(24))
    unit: Mapped[str] = mapped_column(String(16))
    part_number: Mapped[str | None] = mapped_column(String(64))
    visibility: Mapped[str] = _visibility("customer")  # what was fitted, on their bill


class Reading(Base, EvidenceRecord, AssetEvidence):
    __tablename__ = "work_order_readings"

    metric: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(24))
    unit: Mapped[str] = mapped_column(String(16))
    taken_at: Mapped[datetime]
    visibility: Mapped[str] = _visibility("customer")  # measurements of their equipment


class TimeEntry(Base, EvidenceRecord):
    __tablename__ = "work_order_time_entries"

    activity: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(String(1000))
    visibility: Mapped[str] = _visibility("internal")  # staff time accounting


class Photo(Base, EvidenceRecord, AssetEvidence):
    """A photo references its bytes by SHA-256; ``state`` says whether they have arrived."""

    __tablename__ = "work_order_photos"

    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(BigInteger)
    caption: Mapped[str | None] = mapped_column(String(500))
    taken_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    # The note the photo illustrates ("the leak I describe"), a note of the same order.
    note_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("work_order_notes.id", ondelete="RESTRICT"), index=True
    )
    # Photos may show people, other equipment or internal remarks in the caption.
    visibility: Mapped[str] = _visibility("internal")

    # What the pipeline (:mod:`api.evidence.pipeline`) found once the bytes were here.
    # Server-side only: not in the synced row image (the device has the original).
    processing: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    processing_error: Mapped[str | None] = mapped_column(String(64))  # a media.* code
    width: Mapped[int | None]  # of the original, upright
    height: Mapped[int | None]
    # Evidence metadata from the original's EXIF (never in a derivative).
    captured_at: Mapped[datetime | None]  # an instant, when the EXIF says its time zone
    captured_local: Mapped[str | None] = mapped_column(String(19))  # the camera's clock
    gps_lat: Mapped[float | None] = mapped_column(Float)
    gps_lon: Mapped[float | None] = mapped_column(Float)
    gps_alt: Mapped[float | None] = mapped_column(Float)  # metres above sea level
    blurhash: Mapped[str | None] = mapped_column(String(64))
    dominant_color: Mapped[str | None] = mapped_column(String(7))
    # Arrows, circles and text over the original, in normalised coordinates.
    annotations: Mapped[list[dict[str, Any]] | None]


class PhotoDerivative(Base, TenantOwned):
    """A stored rendition of a photo (``thumb``, ``display``, ``annotated``): WebP bytes in
    the blob store under their own SHA-256, without EXIF. Photos with the same original
    share the bytes (the pipeline renders a hash once per tenant); each has its rows."""

    __tablename__ = "photo_derivatives"
    __table_args__ = (
        UniqueConstraint("photo_id", "kind"),
        Index("ix_photo_derivatives_tenant_id_sha256", "tenant_id", "sha256"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    photo_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_order_photos.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int]
    height: Mapped[int]
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
