"""technician skill levels: the skill rows again as one JSON column, for dispatch

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-04 09:35:00

``technicians.skill_levels`` ({skill: level}) lets the spatial short list read each
technician's skills in the same query (dispatch.spatial); the technician services
keep it equal to ``technician_skills``. Filled from the existing rows here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, never a batch copy: on SQLite that would recreate the table
    # and lose the triggers that keep the home-base R*Tree in step (migration 0025).
    op.add_column(
        "technicians",
        sa.Column(
            "skill_levels",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE technicians t SET skill_levels = s.levels FROM ("
            " SELECT technician_id, jsonb_object_agg(skill, level) AS levels"
            " FROM technician_skills GROUP BY technician_id) s"
            " WHERE s.technician_id = t.id"
        )
    else:
        op.execute(
            "UPDATE technicians SET skill_levels = (SELECT json_group_object(skill, level)"
            " FROM technician_skills s WHERE s.technician_id = technicians.id)"
            " WHERE EXISTS (SELECT 1 FROM technician_skills s"
            " WHERE s.technician_id = technicians.id)"
        )


def downgrade() -> None:
    op.drop_column("technicians", "skill_levels")
