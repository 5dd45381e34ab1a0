"""rate limit counters: login limits shared by every worker and host

Revision ID: 0011
Revises: 0012 (the newest when this landed; ids were handed out before)
Create Date: 2026-12-04 06:00:00

``rate_limit_counters`` holds one fixed window per limited key (a SHA-256 of the
limiter's key), for the default ``FIELDLINE_RATELIMIT_STORAGE_URI=database``
(see :mod:`api.ratelimits.storage`). Counts are short-lived: nothing to carry over.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_counters")),
    )
    op.create_index(
        op.f("ix_rate_limit_counters_expires_at"),
        "rate_limit_counters",
        ["expires_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_limit_counters_expires_at"), table_name="rate_limit_counters")
    op.drop_table("rate_limit_counters")
