"""auto-dispatch: each order's dispatch, offers to technicians, the tenant's policy

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-04 09:20:00

``work_order_dispatches``: one row per order the tenant's dispatch policy acted on
(its key is the order: inserting it claims the order once). ``work_order_offers``:
every offer, with unique keys for (order, attempt) and (order, technician) and a
partial unique index allowing one pending offer per order; a partial index of
pending offers by expiry serves the timeout sweep. Tenants gain
``dispatch_mode`` (off), ``offer_timeout_s`` (300) and ``offer_max_declines`` (3).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_order_dispatches",
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("reason_code", sa.String(length=32), nullable=True),
        sa.Column("suggested_technician_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["suggested_technician_id"],
            ["technicians.id"],
            name=op.f("fk_work_order_dispatches_suggested_technician_id_technicians"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_work_order_dispatches_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_work_order_dispatches_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("work_order_id", name=op.f("pk_work_order_dispatches")),
    )
    with op.batch_alter_table("work_order_dispatches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_work_order_dispatches_queue", ["tenant_id", "state"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_work_order_dispatches_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "work_order_offers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("technician_id", sa.Uuid(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("site_address", sa.String(length=500), nullable=False),
        sa.Column("distance_m", sa.Integer(), nullable=False),
        sa.Column("travel_s", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_work_order_offers_technician_id_technicians"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_work_order_offers_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_work_order_offers_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_offers")),
        sa.UniqueConstraint(
            "work_order_id", "attempt", name=op.f("uq_work_order_offers_work_order_id_attempt")
        ),
        sa.UniqueConstraint(
            "work_order_id",
            "technician_id",
            name=op.f("uq_work_order_offers_work_order_id_technician_id"),
        ),
    )
    with op.batch_alter_table("work_order_offers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_work_order_offers_due",
            ["expires_at"],
            unique=False,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )
        batch_op.create_index(
            "ix_work_order_offers_technician", ["tenant_id", "technician_id", "state"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_work_order_offers_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            "uq_work_order_offers_pending",
            ["work_order_id"],
            unique=True,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )

    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("dispatch_mode", sa.String(length=16), server_default="off", nullable=False)
        )
        batch_op.add_column(
            sa.Column("offer_timeout_s", sa.Integer(), server_default="300", nullable=False)
        )
        batch_op.add_column(
            sa.Column("offer_max_declines", sa.Integer(), server_default="3", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("offer_max_declines")
        batch_op.drop_column("offer_timeout_s")
        batch_op.drop_column("dispatch_mode")
    op.drop_table("work_order_offers")
    op.drop_table("work_order_dispatches")
