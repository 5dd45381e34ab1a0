"""work order sign-offs: the customer's signature or refusal, one per order

Revision ID: 0015
Revises: 0011
Create Date: 2026-12-04 06:30:00

``work_order_signoffs`` holds one immutable row per work order (``UNIQUE
(work_order_id)``): the validated stroke drawing and its SHA-256, or the
refusal and its reason, with the signer, the consent text and the GPS fix.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.create_table(
        "work_order_signoffs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("signer_role", sa.String(length=64), nullable=True),
        sa.Column("consent_text", sa.Text(), nullable=True),
        sa.Column("refusal_reason", sa.String(length=1000), nullable=True),
        sa.Column("drawing", json_type, nullable=True),
        sa.Column("signature_sha256", sa.String(length=64), nullable=True),
        sa.Column("point_count", sa.Integer(), nullable=False),
        sa.Column("gps_lat", sa.Float(), nullable=True),
        sa.Column("gps_lon", sa.Float(), nullable=True),
        sa.Column("gps_accuracy_m", sa.Float(), nullable=True),
        sa.Column("author_kind", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("hlc", sa.String(length=90), nullable=True),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_work_order_signoffs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_work_order_signoffs_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_signoffs")),
        sa.UniqueConstraint("work_order_id", name=op.f("uq_work_order_signoffs_work_order_id")),
    )
    op.create_index(
        op.f("ix_work_order_signoffs_tenant_id"), "work_order_signoffs", ["tenant_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_work_order_signoffs_tenant_id"), table_name="work_order_signoffs")
    op.drop_table("work_order_signoffs")
