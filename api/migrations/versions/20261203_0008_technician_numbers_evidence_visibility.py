"""technician employee_no unique per tenant; evidence visibility

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-03 23:30:00

Parts, readings, time entries and photos get a ``visibility`` like notes have
(``internal`` or ``customer``); existing rows take their kind's default, as new
ones do: parts and readings are shown to the customer, time entries and photos
are not.

Existing employee-number duplicates are resolved before the constraint is
added: in each tenant the technician who has held the number longest (earliest
``created_at``, then id) keeps it; each other holder's number gets ``~`` and the end of its own id
appended (``E042~3f5e2b7d``), unique and easy for an admin to find and fix.
Blank numbers become NULL (none given), which the constraint allows many times.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None

_MAX = 40  # technicians.employee_no is String(40)
_VISIBILITY = {
    "work_order_parts": "customer",
    "work_order_readings": "customer",
    "work_order_time_entries": "internal",
    "work_order_photos": "internal",
}


def upgrade() -> None:
    _resolve_duplicates(op.get_bind())
    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_technicians_tenant_id_employee_no"), ["tenant_id", "employee_no"]
        )
    for table, default in _VISIBILITY.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "visibility", sa.String(length=16), server_default=default, nullable=False
                )
            )


def downgrade() -> None:
    for table in _VISIBILITY:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("visibility")
    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_technicians_tenant_id_employee_no"), type_="unique")


def _resolve_duplicates(connection: sa.Connection) -> None:
    technicians = sa.table(
        "technicians",
        sa.column("id", sa.Uuid()),
        sa.column("tenant_id", sa.Uuid()),
        sa.column("employee_no", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    connection.execute(
        technicians.update()
        .where(sa.func.trim(technicians.c.employee_no) == "")
        .values(employee_no=None)
    )
    rows = connection.execute(
        sa.select(technicians.c.id, technicians.c.tenant_id, technicians.c.employee_no)
        .where(technicians.c.employee_no.is_not(None))
        .order_by(
            technicians.c.tenant_id,
            technicians.c.employee_no,
            technicians.c.created_at,
            technicians.c.id,
        )
    ).all()
    seen: set[tuple[object, str]] = set()
    for row in rows:
        key = (row.tenant_id, row.employee_no)
        if key not in seen:
            seen.add(key)
            continue
        suffix = f"~{row.id.hex[-8:]}"
        renamed = row.employee_no[: _MAX - len(suffix)] + suffix
        connection.execute(
            technicians.update().where(technicians.c.id == row.id).values(employee_no=renamed)
        )
