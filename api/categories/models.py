"""The category table: a tree of at most three levels, and the skills each level needs.

A category's required skills are rows (``category_skills``), like a technician's
skills, so dispatch compares like with like. They are inherited down the tree:
an order of a third-level category needs the skills of its whole path, each at
the highest level any category on the path asks for
(:func:`api.categories.skills.required_skills`).
"""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    required_skills: Mapped[list[CategorySkill]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CategorySkill.skill"
    )


class CategorySkill(Base, TenantOwned):
    """A skill (and minimum level) every technician on this category's orders needs."""

    __tablename__ = "category_skills"
    __table_args__ = (CheckConstraint("level >= 1 AND level <= 5", name="level_range"),)

    category_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True
    )
    skill: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[int] = mapped_column(default=1)
