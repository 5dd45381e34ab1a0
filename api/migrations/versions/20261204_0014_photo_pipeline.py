"""photo pipeline: derivatives, EXIF metadata, placeholders, annotations

Revision ID: 0014
Revises: 0017
Create Date: 2026-12-04 06:00:00

``photo_derivatives`` links a photo to its stored renditions (``thumb``,
``display``, ``annotated``: WebP blobs named by their own SHA-256). Photos get
what the pipeline finds (``processing`` ``pending``/``done``/``failed`` with a
``media.*`` code, upright size, EXIF capture time and GPS position, blurhash and
dominant colour) and the office's ``annotations``. Photos whose bytes had
already arrived are queued for the pipeline here (one ``photo.process`` outbox
message each), so existing evidence gets derivatives like new evidence does.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0017"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "photo_derivatives",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("photo_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["photo_id"],
            ["work_order_photos.id"],
            name=op.f("fk_photo_derivatives_photo_id_work_order_photos"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_photo_derivatives_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photo_derivatives")),
        sa.UniqueConstraint("photo_id", "kind", name=op.f("uq_photo_derivatives_photo_id_kind")),
    )
    with op.batch_alter_table("photo_derivatives", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_photo_derivatives_photo_id"), ["photo_id"])
        batch_op.create_index(batch_op.f("ix_photo_derivatives_tenant_id"), ["tenant_id"])
        batch_op.create_index("ix_photo_derivatives_tenant_id_sha256", ["tenant_id", "sha256"])

    with op.batch_alter_table("work_order_photos", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("processing", sa.String(length=16), server_default="pending", nullable=False)
        )
        batch_op.add_column(sa.Column("processing_error", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("width", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("height", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("captured_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("captured_local", sa.String(length=19), nullable=True))
        batch_op.add_column(sa.Column("gps_lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("gps_lon", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("gps_alt", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("blurhash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("dominant_color", sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column("annotations", _JSON, nullable=True))
    _queue_ready_photos(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("work_order_photos", schema=None) as batch_op:
        for column in (
            "annotations",
            "dominant_color",
            "blurhash",
            "gps_alt",
            "gps_lon",
            "gps_lat",
            "captured_local",
            "captured_at",
            "height",
            "width",
            "processing_error",
            "processing",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("photo_derivatives", schema=None) as batch_op:
        batch_op.drop_index("ix_photo_derivatives_tenant_id_sha256")
        batch_op.drop_index(batch_op.f("ix_photo_derivatives_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_photo_derivatives_photo_id"))
    op.drop_table("photo_derivatives")


def _queue_ready_photos(connection: sa.Connection) -> None:
    photos = sa.table(
        "work_order_photos",
        sa.column("id", sa.Uuid()),
        sa.column("tenant_id", sa.Uuid()),
        sa.column("state", sa.String()),
    )
    outbox = sa.table(
        "outbox_messages",
        sa.column("id", sa.Uuid()),
        sa.column("tenant_id", sa.Uuid()),
        sa.column("topic", sa.String()),
        sa.column("payload", _JSON),
        sa.column("status", sa.String()),
        sa.column("attempts", sa.Integer()),
        sa.column("available_at", sa.DateTime(timezone=True)),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    if connection.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # as the app's UTCDateTime stores it there
    ready = connection.execute(
        sa.select(photos.c.id, photos.c.tenant_id).where(photos.c.state == "ready")
    ).all()
    rows = [
        {
            "id": uuid.uuid4(),
            "tenant_id": tenant_id,
            "topic": "photo.process",
            "payload": {"tenant_id": str(tenant_id), "photo_id": str(photo_id)},
            "status": "pending",
            "attempts": 0,
            "available_at": now,
            "created_at": now,
        }
        for photo_id, tenant_id in ready
    ]
    if rows:
        connection.execute(outbox.insert(), rows)
