"""sealed completion reports and tenant signing keys

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 06:45:00

``tenant_signing_keys``: each tenant's Ed25519 keys (public half in the clear,
private half wrapped under a key derived from the app secret); retired keys
stay to verify. ``sealed_reports``: immutable, versioned completion reports
(exact RFC 8785 bytes, SHA-256, Ed25519 signature, public verification token).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant_signing_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("wrapped_private_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_signing_keys_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_signing_keys")),
    )
    op.create_index(
        op.f("ix_tenant_signing_keys_tenant_id"), "tenant_signing_keys", ["tenant_id"], unique=False
    )
    op.create_table(
        "sealed_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("previous_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.Uuid(), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.Column("token", sa.String(length=43), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sealed_by", sa.Uuid(), nullable=True),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["tenant_signing_keys.id"],
            name=op.f("fk_sealed_reports_key_id_tenant_signing_keys"),
        ),
        sa.ForeignKeyConstraint(
            ["previous_id"],
            ["sealed_reports.id"],
            name=op.f("fk_sealed_reports_previous_id_sealed_reports"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sealed_reports_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_sealed_reports_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sealed_reports")),
        sa.UniqueConstraint("token", name=op.f("uq_sealed_reports_token")),
        sa.UniqueConstraint(
            "work_order_id", "version", name=op.f("uq_sealed_reports_work_order_id_version")
        ),
    )
    op.create_index(
        op.f("ix_sealed_reports_tenant_id"), "sealed_reports", ["tenant_id"], unique=False
    )
    op.create_index(
        op.f("ix_sealed_reports_work_order_id"), "sealed_reports", ["work_order_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sealed_reports_work_order_id"), table_name="sealed_reports")
    op.drop_index(op.f("ix_sealed_reports_tenant_id"), table_name="sealed_reports")
    op.drop_table("sealed_reports")
    op.drop_index(op.f("ix_tenant_signing_keys_tenant_id"), table_name="tenant_signing_keys")
    op.drop_table("tenant_signing_keys")
