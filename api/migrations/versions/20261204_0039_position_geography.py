"""GPS fixes searchable by place and time: a geography column (PostgreSQL) or an R*Tree (SQLite)

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-04 13:30:00

PostgreSQL: ``technician_positions.geog``, a stored generated
``geography(Point, 4326)`` built by the database from ``lon, lat`` (so every
writer, bulk ingest included, fills it without knowing of it, and existing rows
are backfilled by the ``ALTER``), with a GiST index for ``ST_DWithin``. Adding a
stored column rewrites the table once under an exclusive lock: on a large trail
table run this migration in a quiet window (see docs/deploy.md).

SQLite: the built-in R*Tree module, three dimensions (lat, lon, fix time in epoch
seconds) keyed by the fix's rowid, kept in step by triggers and filled from the
existing rows here. R*Tree stores 32-bit floats rounded outwards, so a box query
over-selects slightly and the caller checks exact values (see
:mod:`dispatch.fix_index`).
"""

from __future__ import annotations

from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None

_SQLITE_UP = (
    "CREATE VIRTUAL TABLE technician_positions_rtree USING rtree("
    "id, min_lat, max_lat, min_lon, max_lon, min_t, max_t)",
    """CREATE TRIGGER technician_positions_rtree_insert AFTER INSERT ON technician_positions
    BEGIN INSERT INTO technician_positions_rtree VALUES (new.rowid, new.lat, new.lat,
      new.lon, new.lon, CAST(strftime('%s', new.fixed_at) AS REAL), CAST(strftime('%s', new.fixed_at) AS REAL)); END""",
    """CREATE TRIGGER technician_positions_rtree_update
    AFTER UPDATE OF lat, lon, fixed_at ON technician_positions
    BEGIN UPDATE technician_positions_rtree SET min_lat = new.lat, max_lat = new.lat,
      min_lon = new.lon, max_lon = new.lon, min_t = CAST(strftime('%s', new.fixed_at) AS REAL),
      max_t = CAST(strftime('%s', new.fixed_at) AS REAL) WHERE id = new.rowid; END""",
    """CREATE TRIGGER technician_positions_rtree_delete AFTER DELETE ON technician_positions
    BEGIN DELETE FROM technician_positions_rtree WHERE id = old.rowid; END""",
    """INSERT INTO technician_positions_rtree SELECT rowid, lat, lat, lon, lon,
    CAST(strftime('%s', technician_positions.fixed_at) AS REAL), CAST(strftime('%s', technician_positions.fixed_at) AS REAL)
    FROM technician_positions""",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        op.execute(
            "ALTER TABLE technician_positions ADD COLUMN geog geography(Point, 4326)"
            " GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED"
        )
        op.execute(
            "CREATE INDEX ix_technician_positions_geog ON technician_positions USING gist (geog)"
        )
        return
    for statement in _SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_technician_positions_geog")
        op.execute("ALTER TABLE technician_positions DROP COLUMN IF EXISTS geog")
        return
    for name in ("delete", "update", "insert"):
        op.execute(f"DROP TRIGGER IF EXISTS technician_positions_rtree_{name}")
    op.execute("DROP TABLE IF EXISTS technician_positions_rtree")
