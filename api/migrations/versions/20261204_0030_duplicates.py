"""duplicates: suggestions, links between work orders, duplicate and preventive settings

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04 09:10:00

``duplicate_suggestions`` holds the pairs the duplicate rule matched (open,
dismissed or merged); ``work_order_links`` the lasting facts between orders
(``merged_into``, ``repeat_of``). The tenant gets its duplicate window and
score, and the category of repeat-issue preventive orders.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"],
        ["tenants.id"],
        name=op.f(f"fk_{table}_tenant_id_tenants"),
        ondelete="CASCADE",
    )


def _order_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        ["work_orders.id"],
        name=op.f(f"fk_{table}_{column}_work_orders"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "duplicate_suggestions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("candidate_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("reasons", JSONType, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        _order_fk("duplicate_suggestions", "work_order_id"),
        _order_fk("duplicate_suggestions", "candidate_id"),
        _tenant_fk("duplicate_suggestions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_suggestions")),
        sa.UniqueConstraint(
            "work_order_id",
            "candidate_id",
            name=op.f("uq_duplicate_suggestions_work_order_id_candidate_id"),
        ),
    )
    op.create_index("ix_duplicate_suggestions_candidate", "duplicate_suggestions", ["candidate_id"])
    op.create_index(
        op.f("ix_duplicate_suggestions_tenant_id"), "duplicate_suggestions", ["tenant_id"]
    )
    op.create_table(
        "work_order_links",
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("linked_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        _order_fk("work_order_links", "work_order_id"),
        _order_fk("work_order_links", "linked_id"),
        _tenant_fk("work_order_links"),
        sa.PrimaryKeyConstraint(
            "work_order_id", "linked_id", "kind", name=op.f("pk_work_order_links")
        ),
    )
    op.create_index("ix_work_order_links_linked", "work_order_links", ["linked_id", "kind"])
    op.create_index(op.f("ix_work_order_links_tenant_id"), "work_order_links", ["tenant_id"])
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("repeat_preventive_category_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("duplicate_window_hours", sa.Integer(), nullable=False, server_default="72")
        )
        batch_op.add_column(
            sa.Column("duplicate_min_score", sa.Integer(), nullable=False, server_default="60")
        )
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        for column in ("duplicate_window_hours", "duplicate_min_score"):
            batch_op.alter_column(column, existing_type=sa.Integer(), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("duplicate_min_score")
        batch_op.drop_column("duplicate_window_hours")
        batch_op.drop_column("repeat_preventive_category_id")
    op.drop_index(op.f("ix_work_order_links_tenant_id"), table_name="work_order_links")
    op.drop_index("ix_work_order_links_linked", table_name="work_order_links")
    op.drop_table("work_order_links")
    op.drop_index(op.f("ix_duplicate_suggestions_tenant_id"), table_name="duplicate_suggestions")
    op.drop_index("ix_duplicate_suggestions_candidate", table_name="duplicate_suggestions")
    op.drop_table("duplicate_suggestions")
