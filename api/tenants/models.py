"""The tenant table and its per-tenant counters."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, new_id, utcnow


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    locale: Mapped[str] = mapped_column(String(16), default="zh-CN")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Repeat-issue detection: this many orders of one category on one asset within
    # this many days flag the asset; optionally a preventive order is opened.
    repeat_window_days: Mapped[int] = mapped_column(default=3)
    repeat_threshold: Mapped[int] = mapped_column(default=3)
    repeat_opens_preventive: Mapped[bool] = mapped_column(default=False)
    # The preventive order's category; null: the category of the repeats. No foreign
    # key (categories belong to tenants, which would make a cycle): checked when set,
    # and a category gone or deactivated since falls back to the repeats' own.
    repeat_preventive_category_id: Mapped[uuid.UUID | None]
    # Likely duplicates (api.duplicates.rules): orders this close in time are compared,
    # pairs scoring at least this (0-100) are offered to the office.
    duplicate_window_hours: Mapped[int] = mapped_column(default=72)
    duplicate_min_score: Mapped[int] = mapped_column(default=60)
    # Geofenced arrival: "suggest" asks the technician to confirm, "auto" records it.
    arrival_mode: Mapped[str] = mapped_column(String(16), default="suggest")
    geofence_radius_m: Mapped[int] = mapped_column(default=100)
    # Auto-dispatch of new orders (dispatch.offers.Mode): off, suggest, offer or auto; an
    # offer waits this long for an answer, and this many unanswered offers hand the order
    # to the dispatcher's queue.
    dispatch_mode: Mapped[str] = mapped_column(String(16), default="off", server_default="off")
    offer_timeout_s: Mapped[int] = mapped_column(default=300, server_default="300")
    offer_max_declines: Mapped[int] = mapped_column(default=3, server_default="3")


class TenantCounter(Base):
    """Human-readable sequences per tenant (work order numbers), allocated in-transaction."""

    __tablename__ = "tenant_counters"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)
