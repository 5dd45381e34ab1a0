"""geofenced visits: when the technician's fixes show them arrive and leave

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-04 06:15:00

``work_order_visits`` holds each order's detected arrival and departure;
``tenants.arrival_mode`` says whether a detected arrival is recorded ("auto") or
suggested to the technician ("suggest", the default), and
``tenants.geofence_radius_m`` how near the site counts as there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_order_visits",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("technician_id", sa.Uuid(), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrival", sa.String(length=16), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_work_order_visits_technician_id_technicians"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_work_order_visits_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_work_order_visits_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "work_order_id", name=op.f("pk_work_order_visits")),
    )
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("arrival_mode", sa.String(16), nullable=False, server_default="suggest")
        )
        batch_op.add_column(
            sa.Column("geofence_radius_m", sa.Integer(), nullable=False, server_default="100")
        )
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.alter_column("arrival_mode", existing_type=sa.String(16), server_default=None)
        batch_op.alter_column("geofence_radius_m", existing_type=sa.Integer(), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("geofence_radius_m")
        batch_op.drop_column("arrival_mode")

    op.drop_table("work_order_visits")
