"""escalation rules, fired escalations, explicit SLA pauses, met marks, managers

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 09:10:00

``escalation_rules`` (tenant data), ``work_order_escalations`` (one row per
order, rule and level that fired: the unique constraint is the once-only
guarantee), ``sla_pauses`` (explicit pauses by the office),
``escalation_checks`` (each open order's next check, indexed by time: the
sweep's range scan). ``work_order_slas`` gains the first response and arrival
met marks; ``users.manager`` marks tenant managers; ``work_orders`` gains the
``complaint`` flag and the ``amount`` at stake. Nothing to backfill: orders
are planned when they next change or a rule is saved.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def _tenant(table: str) -> list[Any]:
    return [
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f(f"fk_{table}_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
    ]


def _order(table: str) -> list[Any]:
    return [
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f(f"fk_{table}_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "escalation_rules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("logic", JSON, nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("business_time", sa.Boolean(), nullable=False),
        sa.Column("sla_target", sa.String(length=16), nullable=True),
        sa.Column("percent", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_tenant("escalation_rules"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_escalation_rules_category_id_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_escalation_rules_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_rules")),
    )
    op.create_index(op.f("ix_escalation_rules_tenant_id"), "escalation_rules", ["tenant_id"])
    op.create_table(
        "work_order_escalations",
        sa.Column("id", sa.Uuid(), nullable=False),
        *_order("work_order_escalations"),
        sa.Column("rule_id", sa.Uuid(), nullable=True),
        sa.Column("rule_name", sa.String(length=120), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("fired_at", TS, nullable=False),
        sa.Column("recipients", JSON, nullable=False),
        sa.Column("priority_before", sa.String(length=16), nullable=True),
        sa.Column("priority_after", sa.String(length=16), nullable=True),
        *_tenant("work_order_escalations"),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["escalation_rules.id"],
            name=op.f("fk_work_order_escalations_rule_id_escalation_rules"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_escalations")),
        sa.UniqueConstraint("work_order_id", "rule_id", "level", name="uq_escalation_once"),
    )
    op.create_index(
        op.f("ix_work_order_escalations_tenant_id"), "work_order_escalations", ["tenant_id"]
    )
    op.create_index(
        op.f("ix_work_order_escalations_work_order_id"), "work_order_escalations", ["work_order_id"]
    )
    op.create_table(
        "sla_pauses",
        sa.Column("id", sa.Uuid(), nullable=False),
        *_order("sla_pauses"),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("resume_reason", sa.String(length=1000), nullable=True),
        sa.Column("started_by", sa.Uuid(), nullable=True),
        sa.Column("ended_by", sa.Uuid(), nullable=True),
        *_tenant("sla_pauses"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_pauses")),
    )
    op.create_index(op.f("ix_sla_pauses_tenant_id"), "sla_pauses", ["tenant_id"])
    op.create_index(op.f("ix_sla_pauses_work_order_id"), "sla_pauses", ["work_order_id"])
    op.create_table(
        "escalation_checks",
        *_order("escalation_checks"),
        sa.Column("due_at", TS, nullable=False),
        *_tenant("escalation_checks"),
        sa.PrimaryKeyConstraint("work_order_id", name=op.f("pk_escalation_checks")),
    )
    op.create_index(op.f("ix_escalation_checks_tenant_id"), "escalation_checks", ["tenant_id"])
    op.create_index("ix_escalation_checks_due", "escalation_checks", ["due_at"])
    with op.batch_alter_table("work_order_slas") as batch:
        batch.add_column(sa.Column("first_response_met_at", TS, nullable=True))
        batch.add_column(sa.Column("first_response_met_by", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("first_response_breached", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("arrival_met_at", TS, nullable=True))
        batch.add_column(sa.Column("arrival_met_by", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("arrival_breached", sa.Boolean(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("manager", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("work_orders") as batch:
        batch.add_column(
            sa.Column("complaint", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("work_orders") as batch:
        batch.drop_column("amount")
        batch.drop_column("complaint")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("manager")
    with op.batch_alter_table("work_order_slas") as batch:
        for name in (
            "arrival_breached",
            "arrival_met_by",
            "arrival_met_at",
            "first_response_breached",
            "first_response_met_by",
            "first_response_met_at",
        ):
            batch.drop_column(name)
    op.drop_table("escalation_checks")
    op.drop_table("sla_pauses")
    op.drop_table("work_order_escalations")
    op.drop_table("escalation_rules")
