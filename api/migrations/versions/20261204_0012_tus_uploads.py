"""tus uploads: resumable photo uploads in progress

Revision ID: 0012
Revises: 0013
Create Date: 2026-12-04 06:00:00

``tus_uploads`` holds one row per resumable upload (``/v1/uploads``, tus 1.0):
its owner, length, recorded offset, the blob it must hash to and when it
expires. The partial bytes live in the staging folder (``FIELDLINE_UPLOAD_DIR``),
not in the database.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tus_uploads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column(
            "upload_metadata",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tus_uploads_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tus_uploads")),
    )
    op.create_index("ix_tus_uploads_expires_at", "tus_uploads", ["expires_at"], unique=False)
    op.create_index(op.f("ix_tus_uploads_tenant_id"), "tus_uploads", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_tus_uploads_tenant_id"), table_name="tus_uploads")
    op.drop_index("ix_tus_uploads_expires_at", table_name="tus_uploads")
    op.drop_table("tus_uploads")
