"""The category table: a tree of at most three levels."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, TenantOwned, Timestamped, Versioned, new_id

MAX_DEPTH = 3


class Category(Base, TenantOwned, Timestamped, Versioned):
    __tablename__ = "categories"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint("level >= 1 AND level <= 3", name="level_range"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("categories.id", ondelete="RESTRICT"), index=True
    )
    level: Mapped[int]
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(120))
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # Completing an order of this category (or of one below it) needs the customer's
    # signature or a recorded refusal (api.signoff.rules).
    requires_sign_off: Mapped[bool] = mapped_column(default=False, server_default=false())
