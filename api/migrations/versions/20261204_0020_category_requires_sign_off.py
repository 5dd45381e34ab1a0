"""categories.requires_sign_off: completing their orders needs a sign-off

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 07:05:00

A tenant setting per category (inherited by the categories below it): an order
of such a category completes only with the customer's signature or a recorded
refusal (``api.signoff.rules``). Existing categories do not require it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("requires_sign_off", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.drop_column("requires_sign_off")
