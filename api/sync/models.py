"""Sync state: the change log devices pull from, and the push side's devices, receipts,
quarantine, conflicts, blobs and departures.

``sync_counter`` hands out change numbers (one row per tenant, locked by the
committing transaction, PROTOCOL.md § 11.1). ``sync_scope_changes`` is the log:
one row per (scope, table, row) a transaction affected, numbered in commit
order. ``sync_scope_members`` is the server's record of which rows each
technician scope holds, so leaving a scope can be told apart from never having
been in it, and checkpoints can be computed from exactly what was delivered.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, TenantOwned, new_id, utcnow
from api.db.base import JSONType


class SyncCounter(Base):
    __tablename__ = "sync_counter"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class SyncScopeChange(Base):
    __tablename__ = "sync_scope_changes"
    __table_args__ = (
        Index("ix_sync_scope_changes_scope_seq", "tenant_id", "scope", "change_seq"),
        # "Was this row ever in this scope?" (the grace rule of § 5.3)
        Index("ix_sync_scope_changes_scope_row", "tenant_id", "scope", "row_id"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    change_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    scope: Mapped[str] = mapped_column(String(128))
    table_name: Mapped[str] = mapped_column(String(32))
    row_id: Mapped[uuid.UUID]
    op: Mapped[str] = mapped_column(String(16))  # upsert | tombstone
    reason: Mapped[str | None] = mapped_column(String(16))  # tombstones: deleted | left_scope
    recorded_at: Mapped[datetime] = mapped_column(
        default=utcnow, server_default=text("CURRENT_TIMESTAMP")
    )


class SyncScopeFloor(Base):
    """The highest change number compaction removed a tombstone at, per scope (§ 12).

    A cursor below it may have missed that tombstone: its scope must be re-primed
    (``sync.cursor_expired``).
    """

    __tablename__ = "sync_scope_floors"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(128), primary_key=True)
    floor: Mapped[int] = mapped_column(BigInteger)


class SyncScopeMember(Base):
    __tablename__ = "sync_scope_members"
    __table_args__ = (Index("ix_sync_scope_members_row", "tenant_id", "row_id"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(128), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(32), primary_key=True)
    row_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class SyncDevice(Base):
    """One installation of an app (PROTOCOL.md § 1): its owner, push position and health.

    The first push or pull with a ``device_id`` registers it to the caller's user;
    afterwards nobody else may speak for it (``sync.device_mismatch``). ``last_seq``
    is the exactly-once position of § 7.1; the row is locked for the length of a
    push, so two pushes of one device never interleave.
    """

    __tablename__ = "sync_devices"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    technician_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hlc: Mapped[str | None] = mapped_column(String(90))  # last effective HLC (§ 7.3)
    last_push_at: Mapped[datetime | None]
    last_pull_at: Mapped[datetime | None]
    pending: Mapped[int | None]
    oldest_pending: Mapped[str | None] = mapped_column(String(90))
    skew_samples: Mapped[list[Any]] = mapped_column(default=list)
    clamped: Mapped[int] = mapped_column(default=0)
    protocol: Mapped[int | None]
    schema: Mapped[int | None]
    retired_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncReceipt(Base):
    """The digest and receipt of every processed mutation: replays are answered from here."""

    __tablename__ = "sync_receipts"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    device_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    receipt: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncQuarantine(Base, TenantOwned):
    """A mutation that can never apply (§ 7.5): parked with its reason, never silently dropped."""

    __tablename__ = "sync_quarantine"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    device_id: Mapped[uuid.UUID] = mapped_column(index=True)
    technician_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    seq: Mapped[int | None] = mapped_column(BigInteger)
    mutation: Mapped[dict[str, Any]]
    work_order_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    code: Mapped[str] = mapped_column(String(64))
    field: Mapped[str | None] = mapped_column(String(256))
    detail: Mapped[str | None] = mapped_column(String(2000))
    state: Mapped[str] = mapped_column(String(16), default="parked")
    quarantined_at: Mapped[datetime] = mapped_column(default=utcnow)
    settled_by: Mapped[uuid.UUID | None]
    settled_at: Mapped[datetime | None]


class SyncConflict(Base, TenantOwned):
    """Both sides of a clash the rules could not settle (§ 6.5), for a dispatcher to resolve."""

    __tablename__ = "sync_conflicts"
    __table_args__ = (Index("ix_sync_conflicts_tenant_state", "tenant_id", "state"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64))
    table_name: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[uuid.UUID] = mapped_column(index=True)
    field: Mapped[str] = mapped_column(String(64))
    server: Mapped[dict[str, Any]]
    device: Mapped[dict[str, Any]]
    kept: Mapped[str] = mapped_column(String(16))
    mutation: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    device_id: Mapped[uuid.UUID | None]
    technician_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolved_value: Mapped[Any | None] = mapped_column(JSONType)
    resolved_by: Mapped[uuid.UUID | None]
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncBlob(Base):
    """Photo bytes the tenant has stored, by SHA-256 (§ 10); the bytes live in the blob store."""

    __tablename__ = "sync_blobs"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncDeparture(Base):
    """When a device was first told that a work order left its scope (§ 5.3, the grace rule)."""

    __tablename__ = "sync_departures"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    device_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    work_order_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    delivered_hlc: Mapped[str] = mapped_column(String(90))


class SyncScopeTally(Base):
    """A scope's running checksum (PROTOCOL.md § 11.4), kept with the change log.

    ``total`` is the sum of the scope's row digests modulo 2**64, stored as the
    signed 64-bit integer with the same bits; ``version`` the last change number
    that updated it; ``fingerprint`` names the row-image definition the digests
    were computed under (:func:`api.sync.tallies.fingerprint`), so a release that
    changes what an image holds recounts instead of trusting old digests.
    """

    __tablename__ = "sync_scope_tallies"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(BigInteger)
    fingerprint: Mapped[str] = mapped_column(String(64))


class SyncRowDigest(Base):
    """The digest of each row a scope holds, as its tally last counted it."""

    __tablename__ = "sync_row_digests"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(128), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(32), primary_key=True)
    row_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    digest: Mapped[int] = mapped_column(BigInteger)
