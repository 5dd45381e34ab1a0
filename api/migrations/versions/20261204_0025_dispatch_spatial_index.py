"""dispatch spatial index: technicians' current and home positions, searchable by distance

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 07:00:00

PostgreSQL: PostGIS (``CREATE EXTENSION postgis``), a stored generated
``geography(Point, 4326)`` column on ``technician_locations`` and an expression
index on technicians' home base, both GiST, so ``<->`` is a KNN index scan. The
generated column is kept in step by the database itself, whatever writes the row
(the upsert in api/location/services.py included).

SQLite: the built-in R*Tree module, one virtual table per position source
(rowid of the indexed row → a point box), kept in step by triggers.
"""

from __future__ import annotations

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

_HOME = "ST_SetSRID(ST_MakePoint(home_lon, home_lat), 4326)::geography"

_SQLITE_UP = (
    "CREATE VIRTUAL TABLE technician_locations_rtree USING rtree(id, min_lat, max_lat, min_lon, max_lon)",
    """CREATE TRIGGER technician_locations_rtree_insert AFTER INSERT ON technician_locations
    BEGIN INSERT INTO technician_locations_rtree VALUES (new.rowid, new.lat, new.lat, new.lon, new.lon); END""",
    """CREATE TRIGGER technician_locations_rtree_update AFTER UPDATE OF lat, lon ON technician_locations
    BEGIN UPDATE technician_locations_rtree SET min_lat = new.lat, max_lat = new.lat,
      min_lon = new.lon, max_lon = new.lon WHERE id = new.rowid; END""",
    """CREATE TRIGGER technician_locations_rtree_delete AFTER DELETE ON technician_locations
    BEGIN DELETE FROM technician_locations_rtree WHERE id = old.rowid; END""",
    "INSERT INTO technician_locations_rtree SELECT rowid, lat, lat, lon, lon FROM technician_locations",
    "CREATE VIRTUAL TABLE technician_homes_rtree USING rtree(id, min_lat, max_lat, min_lon, max_lon)",
    """CREATE TRIGGER technician_homes_rtree_insert AFTER INSERT ON technicians
    WHEN new.home_lat IS NOT NULL AND new.home_lon IS NOT NULL
    BEGIN INSERT INTO technician_homes_rtree VALUES
      (new.rowid, new.home_lat, new.home_lat, new.home_lon, new.home_lon); END""",
    """CREATE TRIGGER technician_homes_rtree_update AFTER UPDATE OF home_lat, home_lon ON technicians
    BEGIN DELETE FROM technician_homes_rtree WHERE id = old.rowid;
      INSERT INTO technician_homes_rtree SELECT new.rowid, new.home_lat, new.home_lat,
        new.home_lon, new.home_lon WHERE new.home_lat IS NOT NULL AND new.home_lon IS NOT NULL; END""",
    """CREATE TRIGGER technician_homes_rtree_delete AFTER DELETE ON technicians
    BEGIN DELETE FROM technician_homes_rtree WHERE id = old.rowid; END""",
    """INSERT INTO technician_homes_rtree SELECT rowid, home_lat, home_lat, home_lon, home_lon
    FROM technicians WHERE home_lat IS NOT NULL AND home_lon IS NOT NULL""",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        op.execute(
            "ALTER TABLE technician_locations ADD COLUMN geog geography(Point, 4326)"
            " GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED"
        )
        op.execute(
            "CREATE INDEX ix_technician_locations_geog ON technician_locations USING gist (geog)"
        )
        op.execute(f"CREATE INDEX ix_technicians_home_geog ON technicians USING gist (({_HOME}))")
        return
    for statement in _SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_technicians_home_geog")
        op.execute("DROP INDEX IF EXISTS ix_technician_locations_geog")
        op.execute("ALTER TABLE technician_locations DROP COLUMN IF EXISTS geog")
        # The extension stays: other databases objects may use it, and dropping it is a DBA's call.
        return
    for name in (
        "technician_homes_rtree_delete",
        "technician_homes_rtree_update",
        "technician_homes_rtree_insert",
        "technician_locations_rtree_delete",
        "technician_locations_rtree_update",
        "technician_locations_rtree_insert",
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS technician_homes_rtree")
    op.execute("DROP TABLE IF EXISTS technician_locations_rtree")
