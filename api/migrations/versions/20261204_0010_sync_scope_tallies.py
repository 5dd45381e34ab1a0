"""sync scope tallies: running checksums kept with the change log

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-04 02:30:00

``sync_scope_tallies`` holds each scope's checksum (the sum of its row digests
modulo 2**64) and row count; ``sync_row_digests`` each held row's digest, so a
change updates the tally by subtracting the old digest and adding the new one
(PROTOCOL.md § 11.4). Existing scopes are counted when the schema reaches head:
:func:`api.migrations.upgrade` ends with :func:`api.sync.tallies.recount_stale`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_scope_tallies",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=128), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sync_scope_tallies_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "scope", name=op.f("pk_sync_scope_tallies")),
    )
    op.create_table(
        "sync_row_digests",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=128), nullable=False),
        sa.Column("table_name", sa.String(length=32), nullable=False),
        sa.Column("row_id", sa.Uuid(), nullable=False),
        sa.Column("digest", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sync_row_digests_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "scope", "table_name", "row_id", name=op.f("pk_sync_row_digests")
        ),
    )


def downgrade() -> None:
    op.drop_table("sync_row_digests")
    op.drop_table("sync_scope_tallies")
