"""priority rules (JSON Logic) and each order's priority decision

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 07:40:00

``priority_rules``: a tenant's ordered JSON Logic conditions and the priority
each gives. ``work_order_priority_decisions``: the rule that set an order's
priority at creation and the priority the caller asked for. Nothing to backfill.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "priority_rules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("logic", JSON, nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_priority_rules_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_priority_rules")),
    )
    op.create_index(
        op.f("ix_priority_rules_tenant_id"), "priority_rules", ["tenant_id"], unique=False
    )
    op.create_table(
        "work_order_priority_decisions",
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=True),
        sa.Column("rule_name", sa.String(length=120), nullable=False),
        sa.Column("requested_priority", sa.String(length=16), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["priority_rules.id"],
            name=op.f("fk_work_order_priority_decisions_rule_id_priority_rules"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_work_order_priority_decisions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_work_order_priority_decisions_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("work_order_id", name=op.f("pk_work_order_priority_decisions")),
    )
    op.create_index(
        op.f("ix_work_order_priority_decisions_tenant_id"),
        "work_order_priority_decisions",
        ["tenant_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("work_order_priority_decisions")
    op.drop_table("priority_rules")
