"""The asset table."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import date

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, TenantOwned, Timestamped, Versioned, enum_type, new_id
from sync_protocol.entities import Symbology  # one spelling for server and devices

__all__ = ["LABEL_TOKEN", "Asset", "Symbology", "new_label_token"]


# What new_label_token makes: 32 URL-safe characters.
LABEL_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


def new_label_token() -> str:
    """An unguessable token for the asset's public label (192 random bits, URL-safe)."""
    return secrets.token_urlsafe(24)


class Asset(Base, TenantOwned, Timestamped, Versioned):
    __tablename__ = "assets"
    __table_args__ = (
        UniqueConstraint("tenant_id", "barcode_value"),
        Index("ix_assets_tenant_serial", "tenant_id", "serial_number"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    site_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), index=True
    )
    # Denormalised from the site so customer-scoped reads need no join.
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    manufacturer: Mapped[str | None] = mapped_column(String(120))
    model: Mapped[str | None] = mapped_column(String(120))
    serial_number: Mapped[str | None] = mapped_column(String(120))
    barcode_value: Mapped[str | None] = mapped_column(String(256))
    barcode_symbology: Mapped[Symbology | None] = mapped_column(enum_type(Symbology))
    installed_on: Mapped[date | None]
    warranty_ends_on: Mapped[date | None]
    notes: Mapped[str | None] = mapped_column(String(2000))
    active: Mapped[bool] = mapped_column(default=True)
    # GS1 element strings read from the barcode (media.barcodes): AI 01, 21, 10, 17.
    gs1_gtin: Mapped[str | None] = mapped_column(String(14))
    gs1_serial: Mapped[str | None] = mapped_column(String(20))
    gs1_lot: Mapped[str | None] = mapped_column(String(20))
    gs1_expires_on: Mapped[date | None]
    # Made by a scan of an unknown code; the office confirms it or merges it into another.
    provisional: Mapped[bool] = mapped_column(default=False)
    # The public repair-request label's token (QR); never synced to devices.
    label_token: Mapped[str] = mapped_column(String(43), unique=True, default=new_label_token)
