"""The user table."""

from __future__ import annotations

import uuid

from sqlalchemy import String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from api.auth.permissions import Role
from api.db import Base, TenantOwned, Timestamped, Versioned, enum_type, new_id


class User(Base, TenantOwned, Timestamped, Versioned):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "email"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(String(16), default="zh-CN")
    # A tenant manager (admins and dispatchers only): escalations "to the managers" reach them.
    manager: Mapped[bool] = mapped_column(default=False, server_default=false())
