"""Technician and skill tables.

Skills are rows (not JSON) because dispatch filters on them ("HVAC level >= 3").
Certifications and working hours are read whole, so they are JSON documents.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, TenantOwned, Timestamped, Versioned, new_id, utcnow


class Technician(Base, TenantOwned, Timestamped, Versioned):
    __tablename__ = "technicians"
    __table_args__ = (
        CheckConstraint(
            "home_lat IS NULL OR (home_lat >= -90 AND home_lat <= 90)", name="lat_range"
        ),
        CheckConstraint(
            "home_lon IS NULL OR (home_lon >= -180 AND home_lon <= 180)", name="lon_range"
        ),
        # Employee numbers name one person in a tenant (NULL: none given; many may lack one).
        UniqueConstraint("tenant_id", "employee_no"),
        # What rows that name a technician of their own tenant point at (a composite
        # foreign key: a GPS fix can name no other tenant's technician).
        Index("ix_technicians_tenant_id_id", "tenant_id", "id", unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    employee_no: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    home_address: Mapped[str | None] = mapped_column(String(500))
    home_lat: Mapped[float | None]
    home_lon: Mapped[float | None]
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # {"mon": [["08:30", "17:30"]], ...}; a missing day is a day off.
    working_hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # [{"name": "...", "number": "...", "issued_on": "...", "expires_on": "..."}]
    certifications: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
    # The skill rows again as {skill: level}, kept in step by the technician services:
    # dispatch reads a short list's facts in the same query as the spatial index
    # (dispatch.spatial), one column instead of a join per technician.
    skill_levels: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))

    skills: Mapped[list[TechnicianSkill]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="TechnicianSkill.skill"
    )


class TechnicianSkill(Base, TenantOwned):
    __tablename__ = "technician_skills"
    __table_args__ = (CheckConstraint("level >= 1 AND level <= 5", name="level_range"),)

    technician_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("technicians.id", ondelete="CASCADE"), primary_key=True
    )
    skill: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    level: Mapped[int]


class TechnicianPhoto(Base, TenantOwned):
    """A technician's profile photo: the validated upload, and its square WebP renditions
    (``small`` for lists and map markers, ``large`` for the customer's tracking page).
    All three are blobs of the tenant's store; a new upload replaces the row."""

    __tablename__ = "technician_photos"

    technician_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("technicians.id", ondelete="CASCADE"), primary_key=True
    )
    sha256: Mapped[str] = mapped_column(String(64))  # the upload as sent (never served)
    content_type: Mapped[str] = mapped_column(String(32))
    small_sha256: Mapped[str] = mapped_column(String(64))
    large_sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[uuid.UUID | None]
