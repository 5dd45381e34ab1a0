"""tracking push subscriptions: browsers a customer subscribed from a tracking page

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-04 09:01:16

``tracking_push_subscriptions``: Web Push subscriptions made with a tracking
link and no account, one row per (tenant, order, endpoint). New table, nothing
to backfill.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracking_push_subscriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint", sa.String(length=2048), nullable=False),
        sa.Column("p256dh", sa.String(length=100), nullable=False),
        sa.Column("auth", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["tracking_links.id"],
            name=op.f("fk_tracking_push_subscriptions_link_id_tracking_links"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tracking_push_subscriptions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_tracking_push_subscriptions_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_push_subscriptions")),
        sa.UniqueConstraint(
            "tenant_id",
            "work_order_id",
            "endpoint",
            name=op.f("uq_tracking_push_subscriptions_tenant_id_work_order_id_endpoint"),
        ),
    )
    with op.batch_alter_table("tracking_push_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tracking_push_subscriptions_link_id"), ["link_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tracking_push_subscriptions_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tracking_push_subscriptions_work_order_id"),
            ["work_order_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("tracking_push_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_push_subscriptions_work_order_id"))
        batch_op.drop_index(batch_op.f("ix_tracking_push_subscriptions_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_tracking_push_subscriptions_link_id"))

    op.drop_table("tracking_push_subscriptions")
