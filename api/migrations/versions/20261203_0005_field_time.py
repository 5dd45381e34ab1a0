"""field time: when things happened on the device, beside when the server stored them

Status history gains ``recorded_at`` (the server's storage time); its
``occurred_at`` now means when the step happened (a device's time for synced
steps). Evidence rows gain ``occurred_at``. Existing rows only ever had the
server's time, so both columns start as a copy of it. Notifications gain the
recipient's ``locale`` (existing ones were written in zh-CN) and a ``body``.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-03 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

EVIDENCE_TABLES = (
    "work_order_notes",
    "work_order_parts",
    "work_order_readings",
    "work_order_time_entries",
    "work_order_photos",
)


def upgrade() -> None:
    _add_copied("work_order_status_changes", "recorded_at", "occurred_at")
    for table in EVIDENCE_TABLES:
        _add_copied(table, "occurred_at", "created_at")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("locale", sa.String(length=16), nullable=False, server_default="zh-CN")
        )
        batch_op.add_column(sa.Column("body", sa.Text(), nullable=True))
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("locale", existing_type=sa.String(length=16), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("body")
        batch_op.drop_column("locale")
    for table in EVIDENCE_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("occurred_at")
    with op.batch_alter_table("work_order_status_changes", schema=None) as batch_op:
        batch_op.drop_column("recorded_at")


def _add_copied(table: str, column: str, source: str) -> None:
    """A NOT NULL timestamp column filled from ``source`` on existing rows."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text(f"UPDATE {table} SET {column} = {source}"))  # noqa: S608 (constants)
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column(column, existing_type=sa.DateTime(timezone=True), nullable=False)
