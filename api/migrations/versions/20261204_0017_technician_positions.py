"""technician positions: GPS trails and each technician's current position

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 06:10:00

``technician_positions`` is append-only; its primary key (tenant, device, fix
time) is the deduplication rule. ``technician_locations`` holds each technician's
newest kept fix (see api/location/models.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "technician_locations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("technician_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.String(length=128), nullable=False),
        sa.Column("fixed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "lat >= -90 AND lat <= 90", name=op.f("ck_technician_locations_lat_range")
        ),
        sa.CheckConstraint(
            "lon >= -180 AND lon <= 180", name=op.f("ck_technician_locations_lon_range")
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_technician_locations_technician_id_technicians"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_technician_locations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "technician_id", name=op.f("pk_technician_locations")),
    )
    op.create_table(
        "technician_positions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.String(length=128), nullable=False),
        sa.Column("fixed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("technician_id", sa.Uuid(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("speed_mps", sa.Float(), nullable=True),
        sa.Column("heading_deg", sa.Float(), nullable=True),
        sa.Column("altitude_m", sa.Float(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "lat >= -90 AND lat <= 90", name=op.f("ck_technician_positions_lat_range")
        ),
        sa.CheckConstraint(
            "lon >= -180 AND lon <= 180", name=op.f("ck_technician_positions_lon_range")
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_technician_positions_technician_id_technicians"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_technician_positions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "device_id", "fixed_at", name=op.f("pk_technician_positions")
        ),
    )
    with op.batch_alter_table("technician_positions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_technician_positions_trail",
            ["tenant_id", "technician_id", "fixed_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("technician_positions", schema=None) as batch_op:
        batch_op.drop_index("ix_technician_positions_trail")

    op.drop_table("technician_positions")
    op.drop_table("technician_locations")
