"""versions of each tenant's priority rule set, and the version on each decision

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 09:00:00

``priority_rule_set_versions``: the whole rule set as saved, one immutable row
per save. A tenant that already has rules gets them as version 1 (cause
``create``), so the next save is version 2. Decisions made before keep a null
``rule_set_version``.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from uuid_utils.compat import uuid7

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    versions = op.create_table(
        "priority_rule_set_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("rules", JSON, nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("rolled_back_to", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_priority_rule_set_versions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_priority_rule_set_versions")),
    )
    op.create_index(
        op.f("ix_priority_rule_set_versions_tenant_id"),
        "priority_rule_set_versions",
        ["tenant_id"],
        unique=False,
    )
    op.create_index(
        "uq_priority_rule_set_versions_number",
        "priority_rule_set_versions",
        ["tenant_id", "number"],
        unique=True,
    )
    with op.batch_alter_table("work_order_priority_decisions") as batch:
        batch.add_column(sa.Column("rule_set_version", sa.Integer(), nullable=True))
    _backfill(versions)


def _backfill(versions: sa.Table) -> None:
    rows = op.get_bind().execute(
        sa.text(
            "SELECT tenant_id, id, name, position, logic, priority, active "
            "FROM priority_rules ORDER BY tenant_id, position, id"
        )
    )
    by_tenant: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for tenant_id, rule_id, name, position, logic, priority, active in rows:
        by_tenant[tenant_id].append(
            {
                "id": str(uuid.UUID(str(rule_id))),
                "name": name,
                "position": position,
                "logic": json.loads(logic) if isinstance(logic, str) else logic,
                "priority": priority,
                "active": bool(active),
            }
        )
    now = datetime.now(UTC)
    op.bulk_insert(
        versions,
        [
            {
                "id": uuid7(),  # time-ordered, as every id the server mints
                "tenant_id": uuid.UUID(str(tenant_id)),
                "number": 1,
                "rules": rules,
                "cause": "create",
                "rolled_back_to": None,
                "created_by": None,
                "created_at": now,
            }
            for tenant_id, rules in by_tenant.items()
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("work_order_priority_decisions") as batch:
        batch.drop_column("rule_set_version")
    op.drop_table("priority_rule_set_versions")
