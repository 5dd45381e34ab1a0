"""business calendars: weekly hours, holiday country, per-date overrides

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 07:10:00

``business_calendars`` (one per team, at most one tenant default with a null
``team_id``) and ``business_calendar_days`` (a date set by hand: hours, or
``[]`` for a day off). Hours are minutes since local midnight. Nothing exists
before, so nothing is backfilled.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "business_calendars",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("weekly_hours", JSON, nullable=False),
        sa.Column("holiday_country", sa.String(length=8), nullable=True),
        sa.Column("makeup_hours", JSON, nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_business_calendars_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_business_calendars_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_calendars")),
    )
    op.create_index(
        op.f("ix_business_calendars_tenant_id"), "business_calendars", ["tenant_id"], unique=False
    )
    op.create_index(
        "uq_business_calendars_team", "business_calendars", ["tenant_id", "team_id"], unique=True
    )
    op.create_index(
        "uq_business_calendars_default",
        "business_calendars",
        ["tenant_id"],
        unique=True,
        sqlite_where=sa.text("team_id IS NULL"),
        postgresql_where=sa.text("team_id IS NULL"),
    )
    op.create_table(
        "business_calendar_days",
        sa.Column("calendar_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hours", JSON, nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["business_calendars.id"],
            name=op.f("fk_business_calendar_days_calendar_id_business_calendars"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_business_calendar_days_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("calendar_id", "day", name=op.f("pk_business_calendar_days")),
    )
    op.create_index(
        op.f("ix_business_calendar_days_tenant_id"),
        "business_calendar_days",
        ["tenant_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("business_calendar_days")
    op.drop_table("business_calendars")
