"""workflow definitions (versioned), each order's run and its events, current steps on orders

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-04 09:30:00

``workflow_definitions`` and their immutable ``workflow_definition_versions``;
``work_order_workflows``: the run of an order (the version it follows, each
step's state); ``work_order_workflow_events``: its history.
``work_orders.current_steps``: the server-owned summary devices replicate.
Nothing to backfill: orders created before have no workflow.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _tenant(table: str) -> list[Any]:
    return [
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f(f"fk_{table}_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
    ]


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    t = "workflow_definitions"
    op.create_table(
        t,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        *_tenant(t),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _fk(t, "category_id", "categories", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index(op.f(f"ix_{t}_tenant_id"), t, ["tenant_id"], unique=False)
    op.create_index(
        "uq_workflow_definitions_category", t, ["tenant_id", "category_id"], unique=True
    )
    op.create_index(
        "uq_workflow_definitions_default",
        t,
        ["tenant_id"],
        unique=True,
        sqlite_where=sa.text("category_id IS NULL"),
        postgresql_where=sa.text("category_id IS NULL"),
    )

    t = "workflow_definition_versions"
    op.create_table(
        t,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("definition_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", JSON, nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *_tenant(t),
        _fk(t, "definition_id", "workflow_definitions", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index(op.f(f"ix_{t}_tenant_id"), t, ["tenant_id"], unique=False)
    op.create_index(op.f(f"ix_{t}_definition_id"), t, ["definition_id"], unique=False)
    op.create_index("uq_workflow_definition_versions", t, ["definition_id", "number"], unique=True)

    t = "work_order_workflows"
    op.create_table(
        t,
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("definition_id", sa.Uuid(), nullable=False),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("steps", JSON, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        *_tenant(t),
        _fk(t, "work_order_id", "work_orders", "CASCADE"),
        _fk(t, "definition_id", "workflow_definitions", "RESTRICT"),
        _fk(t, "version_id", "workflow_definition_versions", "RESTRICT"),
        sa.PrimaryKeyConstraint("work_order_id", name=op.f(f"pk_{t}")),
    )
    op.create_index(op.f(f"ix_{t}_tenant_id"), t, ["tenant_id"], unique=False)
    op.create_index(op.f(f"ix_{t}_definition_id"), t, ["definition_id"], unique=False)

    t = "work_order_workflow_events"
    op.create_table(
        t,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("approver", JSON, nullable=True),
        sa.Column("comment", sa.String(length=2000), nullable=True),
        sa.Column("override_reason", sa.String(length=1000), nullable=True),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        *_tenant(t),
        _fk(t, "work_order_id", "work_orders", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index(op.f(f"ix_{t}_tenant_id"), t, ["tenant_id"], unique=False)
    op.create_index("ix_work_order_workflow_events_order", t, ["work_order_id", "id"])

    with op.batch_alter_table("work_orders") as batch:
        batch.add_column(sa.Column("current_steps", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("work_orders") as batch:
        batch.drop_column("current_steps")
    op.drop_table("work_order_workflow_events")
    op.drop_table("work_order_workflows")
    op.drop_table("workflow_definition_versions")
    op.drop_table("workflow_definitions")
