"""Duplicate suggestions and the links between work orders (merges, repeats).

A suggestion is a pair the duplicate rule matched; its ``work_order_id`` is the
order whose creation found it, ``candidate_id`` the older one. It stays
``open`` until the office ``dismissed`` it or ``merged`` the pair.

A link is a fact between two orders that outlives both being finished:
``merged_into`` (the duplicate → the primary it was merged into) and
``repeat_of`` (a preventive maintenance order → each repeat order that opened it).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, TenantOwned, new_id, utcnow

OPEN, DISMISSED, MERGED = "open", "dismissed", "merged"
MERGED_INTO, REPEAT_OF = "merged_into", "repeat_of"


class DuplicateSuggestion(Base, TenantOwned):
    __tablename__ = "duplicate_suggestions"
    __table_args__ = (
        UniqueConstraint("work_order_id", "candidate_id"),
        Index("ix_duplicate_suggestions_candidate", "candidate_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE")
    )
    candidate_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE")
    )
    score: Mapped[int]
    reasons: Mapped[list[Any]]
    state: Mapped[str] = mapped_column(String(16), default=OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[uuid.UUID | None]


class WorkOrderLink(Base, TenantOwned):
    __tablename__ = "work_order_links"
    __table_args__ = (Index("ix_work_order_links_linked", "linked_id", "kind"),)

    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True
    )
    linked_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[uuid.UUID | None]
