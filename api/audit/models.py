"""The audit event table (append-only, hash-chained: see :mod:`api.audit.chain`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, TenantOwned, new_id, utcnow


class AuditEvent(Base, TenantOwned):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_entity", "tenant_id", "entity_type", "entity_id"),
        UniqueConstraint("tenant_id", "chain_id", "chain_seq"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(32))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[uuid.UUID]
    # {"field": {"before": ..., "after": ...}}; a create has only "after" values.
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64))
    # The hash chain (api.audit.chain): the work order's (or the tenant's) chain, this
    # event's place in it, the previous event's hash and this one's. Set at commit.
    chain_id: Mapped[uuid.UUID | None]
    chain_seq: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditChainHead(Base):
    """The last link of each chain, kept apart so a cut tail is noticed; locked while
    a transaction appends, so a chain never forks."""

    __tablename__ = "audit_chain_heads"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    chain_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
