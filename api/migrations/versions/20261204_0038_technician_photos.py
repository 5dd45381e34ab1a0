"""technician photos: a profile photo per technician, with square WebP renditions

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-04 12:45:00

``technician_photos``: one row per technician who has a photo (the upload's and
its renditions' SHA-256 in the tenant's blob store). A new table, so the
``technicians`` table (and its R*Tree triggers on SQLite) is left as it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "technician_photos",
        sa.Column("technician_id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("small_sha256", sa.String(length=64), nullable=False),
        sa.Column("large_sha256", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_technician_photos_technician_id_technicians"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_technician_photos_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("technician_id", name=op.f("pk_technician_photos")),
    )
    with op.batch_alter_table("technician_photos", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_technician_photos_tenant_id"), ["tenant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("technician_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_technician_photos_tenant_id"))
    op.drop_table("technician_photos")
