"""web push: tenant VAPID keys and people's push subscriptions

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 07:10:00

``tenant_vapid_keys`` holds one P-256 pair per tenant (the private half wrapped
under a key derived from the app secret); ``push_subscriptions`` one row per
browser endpoint and tenant, owned by the user who subscribed it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant_vapid_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("public_key", sa.String(length=100), nullable=False),
        sa.Column("wrapped_private_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_vapid_keys_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_vapid_keys")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_tenant_vapid_keys_tenant_id")),
    )
    op.create_index(
        op.f("ix_tenant_vapid_keys_tenant_id"), "tenant_vapid_keys", ["tenant_id"], unique=False
    )
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint", sa.String(length=2048), nullable=False),
        sa.Column("p256dh", sa.String(length=100), nullable=False),
        sa.Column("auth", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_push_subscriptions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_push_subscriptions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscriptions")),
        sa.UniqueConstraint(
            "tenant_id", "endpoint", name=op.f("uq_push_subscriptions_tenant_id_endpoint")
        ),
    )
    op.create_index(
        op.f("ix_push_subscriptions_tenant_id"), "push_subscriptions", ["tenant_id"], unique=False
    )
    op.create_index(
        op.f("ix_push_subscriptions_user_id"), "push_subscriptions", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_push_subscriptions_user_id"), table_name="push_subscriptions")
    op.drop_index(op.f("ix_push_subscriptions_tenant_id"), table_name="push_subscriptions")
    op.drop_table("push_subscriptions")
    op.drop_index(op.f("ix_tenant_vapid_keys_tenant_id"), table_name="tenant_vapid_keys")
    op.drop_table("tenant_vapid_keys")
