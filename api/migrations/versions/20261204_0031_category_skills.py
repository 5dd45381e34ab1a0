"""category skills: what a category's orders need of a technician, and an order's own

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04 08:50:00

``category_skills`` lists, per category, the skills (with a minimum level) its
orders need; categories below inherit them. ``work_orders.required_skills`` holds
the skills one order adds (a JSON list, the dispatcher's).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "category_skills",
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("skill", sa.String(length=64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "level >= 1 AND level <= 5", name=op.f("ck_category_skills_level_range")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_category_skills_category_id_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_category_skills_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("category_id", "skill", name=op.f("pk_category_skills")),
    )
    op.create_index(
        op.f("ix_category_skills_tenant_id"), "category_skills", ["tenant_id"], unique=False
    )
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "required_skills",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                server_default=sa.text("'[]'"),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_column("required_skills")
    op.drop_index(op.f("ix_category_skills_tenant_id"), table_name="category_skills")
    op.drop_table("category_skills")
