"""The sign-off table: one immutable row per work order, a signature or a refusal.

A row is never updated: ``UNIQUE (work_order_id)`` makes a second sign-off for the
same order fail at the database too, so two devices signing offline cannot both
win. The drawing is kept as the device sent it (validated, canonical JSON) with
its SHA-256, which the completion report seals.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, TenantOwned, new_id, utcnow


class WorkOrderSignOff(Base, TenantOwned):
    __tablename__ = "work_order_signoffs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), unique=True
    )
    outcome: Mapped[str] = mapped_column(String(16))  # "signed" | "refused"
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_role: Mapped[str | None] = mapped_column(String(64))
    consent_text: Mapped[str | None] = mapped_column(Text)
    refusal_reason: Mapped[str | None] = mapped_column(String(1000))
    drawing: Mapped[dict[str, Any] | None]
    signature_sha256: Mapped[str | None] = mapped_column(String(64))
    point_count: Mapped[int] = mapped_column(default=0)
    gps_lat: Mapped[float | None] = mapped_column(Float)
    gps_lon: Mapped[float | None] = mapped_column(Float)
    gps_accuracy_m: Mapped[float | None] = mapped_column(Float)
    author_kind: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[uuid.UUID | None]
    device_id: Mapped[uuid.UUID | None]
    hlc: Mapped[str | None] = mapped_column(String(90))
    content_digest: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)  # when it was signed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # when the server stored it


class TenantSigningKey(Base, TenantOwned):
    """A tenant's Ed25519 key: the public half in the clear, the private half wrapped
    (``signatures.keyring``: AES-256-GCM under a key derived from the app secret).
    One key per tenant is active (``retired_at`` null); retired keys only verify."""

    __tablename__ = "tenant_signing_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)  # the key id
    algorithm: Mapped[str] = mapped_column(String(16), default="Ed25519")
    public_key: Mapped[str] = mapped_column(String(64))  # base64 of the raw 32 bytes
    wrapped_private_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]


class SealedReport(Base, TenantOwned):
    """One sealed version of a work order's completion report; never updated.

    ``report`` holds the exact RFC 8785 bytes (as UTF-8 text) that ``sha256`` and
    ``signature`` cover. An amendment is a new row with the next ``version`` whose
    report names the previous one (``previous_id`` and its hash inside the sealed
    bytes). ``token`` addresses the public verification (the report's QR code).
    """

    __tablename__ = "sealed_reports"
    __table_args__ = (UniqueConstraint("work_order_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int]
    previous_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sealed_reports.id"))
    reason: Mapped[str | None] = mapped_column(String(1000))  # why it was amended
    report: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenant_signing_keys.id"))
    signature: Mapped[str] = mapped_column(String(100))
    token: Mapped[str] = mapped_column(String(43), unique=True)
    sealed_at: Mapped[datetime] = mapped_column(default=utcnow)
    sealed_by: Mapped[uuid.UUID | None]
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))  # once the worker rendered it
