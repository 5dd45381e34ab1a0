"""visit evidence: the fixes behind a geofenced arrival and departure

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-04 16:20:00

``work_order_visits.arrival_evidence`` and ``departure_evidence``: the first and
last fix of the stay (or absence) that decided each time, with their distances to
the site, and how many fixes it held (:class:`dispatch.geofence.Evidence`, in its
wire form). Nullable: visits detected before this migration have none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("work_order_visits") as batch:
        batch.add_column(sa.Column("arrival_evidence", _JSON, nullable=True))
        batch.add_column(sa.Column("departure_evidence", _JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("work_order_visits") as batch:
        batch.drop_column("departure_evidence")
        batch.drop_column("arrival_evidence")
