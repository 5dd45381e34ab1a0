"""audit events hash-chained per work order; chain heads

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 07:00:00

``audit_events`` gains ``chain_id``, ``chain_seq``, ``prev_hash`` and ``hash``
(``api.audit.chain``); ``audit_chain_heads`` keeps each chain's last link.
Existing events are linked here, per chain in (occurred_at, id) order, with
the same pure function the server uses (``signatures.chain.link_hash``).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from signatures.chain import GENESIS, link_hash

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_chain_heads",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_audit_chain_heads_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "chain_id", name=op.f("pk_audit_chain_heads")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("chain_seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_audit_events_tenant_id_chain_id_chain_seq"),
            ["tenant_id", "chain_id", "chain_seq"],
        )
    _link_existing(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_audit_events_tenant_id_chain_id_chain_seq"), type_="unique"
        )
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("chain_seq")
        batch_op.drop_column("chain_id")
    op.drop_table("audit_chain_heads")


_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_events = sa.table(
    "audit_events",
    sa.column("id", sa.Uuid()),
    sa.column("tenant_id", sa.Uuid()),
    sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("actor_kind", sa.String()),
    sa.column("actor_id", sa.Uuid()),
    sa.column("action", sa.String()),
    sa.column("entity_type", sa.String()),
    sa.column("entity_id", sa.Uuid()),
    sa.column("changes", _JSON),
    sa.column("request_id", sa.String()),
    sa.column("chain_id", sa.Uuid()),
    sa.column("chain_seq", sa.BigInteger()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)
_heads = sa.table(
    "audit_chain_heads",
    sa.column("tenant_id", sa.Uuid()),
    sa.column("chain_id", sa.Uuid()),
    sa.column("seq", sa.BigInteger()),
    sa.column("hash", sa.String()),
)


def _link_existing(bind: sa.Connection) -> None:
    rows = bind.execute(sa.select(_events).order_by(_events.c.occurred_at, _events.c.id)).mappings()
    heads: dict[tuple[uuid.UUID, uuid.UUID], tuple[int, str]] = {}
    for row in rows.all():
        chain = _chain_of(row)
        seq, prev = heads.get((row["tenant_id"], chain), (0, GENESIS))
        seq += 1
        record = _record(row, chain, seq)
        digest = link_hash(prev, record)
        bind.execute(
            sa.update(_events)
            .where(_events.c.id == row["id"])
            .values(chain_id=chain, chain_seq=seq, prev_hash=prev, hash=digest)
        )
        heads[(row["tenant_id"], chain)] = (seq, digest)
    for (tenant, chain), (seq, digest) in heads.items():
        bind.execute(
            sa.insert(_heads).values(tenant_id=tenant, chain_id=chain, seq=seq, hash=digest)
        )


def _chain_of(row: Any) -> uuid.UUID:
    if row["entity_type"] == "work_order":
        return uuid.UUID(str(row["entity_id"]))
    named = (row["changes"] or {}).get("work_order_id")
    value = named.get("after") if isinstance(named, dict) else None
    try:
        return uuid.UUID(value) if isinstance(value, str) else row["tenant_id"]
    except ValueError:
        return uuid.UUID(str(row["tenant_id"]))


def _record(row: Any, chain: uuid.UUID, seq: int) -> dict[str, Any]:
    moment: datetime = row["occurred_at"]
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    text = moment.isoformat(timespec="seconds")[:19]
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return {
        "id": str(row["id"]),
        "tenant_id": str(row["tenant_id"]),
        "chain_id": str(chain),
        "seq": seq,
        "occurred_at": text + "Z",
        "actor_kind": row["actor_kind"],
        "actor_id": str(row["actor_id"]) if row["actor_id"] else None,
        "action": row["action"],
        "entity_type": row["entity_type"],
        "entity_id": str(row["entity_id"]),
        "changes": json.loads(json.dumps(row["changes"] or {}, default=str)),
        "request_id": row["request_id"],
    }
