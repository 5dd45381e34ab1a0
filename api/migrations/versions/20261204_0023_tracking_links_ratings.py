"""tracking links and CSAT ratings: the customer's public tracking page

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 06:55:00

``tracking_links``: one row per link a work order was given; the token is global
and unique (it is the public credential), a revoked link keeps its row.
``work_order_ratings``: at most one rating per work order (see api/tracking/models.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracking_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("token", sa.String(length=43), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tracking_links_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_tracking_links_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_links")),
        sa.UniqueConstraint("token", name=op.f("uq_tracking_links_token")),
    )
    with op.batch_alter_table("tracking_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tracking_links_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tracking_links_work_order_id"), ["work_order_id"], unique=False
        )

    op.create_table(
        "work_order_ratings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "score >= 1 AND score <= 5", name=op.f("ck_work_order_ratings_score_range")
        ),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["tracking_links.id"],
            name=op.f("fk_work_order_ratings_link_id_tracking_links"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_work_order_ratings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_work_order_ratings_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_ratings")),
        sa.UniqueConstraint("work_order_id", name=op.f("uq_work_order_ratings_work_order_id")),
    )
    with op.batch_alter_table("work_order_ratings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_work_order_ratings_tenant_id"), ["tenant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("work_order_ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_order_ratings_tenant_id"))

    op.drop_table("work_order_ratings")
    with op.batch_alter_table("tracking_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_links_work_order_id"))
        batch_op.drop_index(batch_op.f("ix_tracking_links_tenant_id"))

    op.drop_table("tracking_links")
