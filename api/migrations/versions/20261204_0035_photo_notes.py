"""photos name the note they illustrate

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-04 09:15:00

``work_order_photos.note_id``: the note of the same order a photo illustrates
(PROTOCOL.md § 9 ``attach_photo``), so the office can list a note's photos. Existing
photos name none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("work_order_photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_work_order_photos_note_id"), ["note_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_work_order_photos_note_id_work_order_notes"),
            "work_order_notes",
            ["note_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("work_order_photos", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_work_order_photos_note_id_work_order_notes"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_work_order_photos_note_id"))
        batch_op.drop_column("note_id")
