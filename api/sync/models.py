"""The change log a device pulls from: a per-tenant counter, scope changes and scope members.

``sync_counter`` hands out change numbers (one row per tenant, locked by the
committing transaction, PROTOCOL.md § 11.1). ``sync_scope_changes`` is the log:
one row per (scope, table, row) a transaction affected, numbered in commit
order. ``sync_scope_members`` is the server's record of which rows each
technician scope holds, so leaving a scope can be told apart from never having
been in it, and checkpoints can be computed from exactly what was delivered.
"""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base


class SyncCounter(Base):
    __tablename__ = "sync_counter"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class SyncScopeChange(Base):
    __tablename__ = "sync_scope_changes"
    __table_args__ = (Index("ix_sync_scope_changes_scope_seq", "tenant_id", "scope", "change_seq"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    change_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    scope: Mapped[str] = mapped_column(String(128))
    table_name: Mapped[str] = mapped_column(String(32))
    row_id: Mapped[uuid.UUID]
    op: Mapped[str] = mapped_column(String(16))  # upsert | tombstone
    reason: Mapped[str | None] = mapped_column(String(16))  # tombstones: deleted | left_scope


class SyncScopeMember(Base):
    __tablename__ = "sync_scope_members"
    __table_args__ = (Index("ix_sync_scope_members_row", "tenant_id", "row_id"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(128), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(32), primary_key=True)
    row_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
