"""technician places: every position a technician can be placed by, in one spatial index

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-04 16:30:00

``technician_places`` holds up to two rows per technician: ``home`` (their home
base) and ``fix`` (their current fix, from ``technician_locations``). Each row
carries the technician's current fix time (``fixed_at``, on both rows), whether
they are active and their ``skill_levels``, so one nearest-neighbour search over
one index answers "the nearest active technicians with these skills by effective
position" (dispatch.spatial ``qualified``) without a union of two searches or a
look-up per row. Which of a technician's two rows counts depends only on the
freshness limit of the question asked: the fix if ``fixed_at >= fresh_since``,
else the home base. Exactly one of them passes for any limit, so a fix going stale
needs no sweep: the next question simply finds the home row instead.

The database keeps the table in step by itself (triggers on ``technicians`` and
``technician_locations``), whatever writes those rows: the services, bulk loads,
the location upsert. It is derived data, so it has no ORM model (like the R*Tree
tables of migrations 0025 and 0039).

PostgreSQL: ``fresh``, a stored generated ``tstzrange`` of the freshness limits
for which the row counts ((-inf, fixed_at] for a fix, (fixed_at, +inf) for a home
base, everything for a home base with no fix), and ``geog``, both in one GiST
index with ``tenant_id`` (``btree_gist``): the KNN scan (``<->``) skips rows of
other tenants and rows that do not count without reading them.

SQLite: an R*Tree over (lat, lon, the same freshness range in epoch seconds),
kept from ``technician_places`` by triggers. R*Tree stores 32-bit floats rounded
outwards and the seconds are widened by one, so the box over-selects slightly and
the query checks ``fixed_at`` exactly on the row.
"""

# ruff: noqa: S608 (the statements are built from this module's constants only)
from __future__ import annotations

from alembic import op

revision = "0041"
down_revision = "0040"
branch_labels = None
depends_on = None

_COLUMNS = "tenant_id, technician_id, source, lat, lon, fixed_at, active, skill_levels"

_PG_UP = (
    "CREATE EXTENSION IF NOT EXISTS postgis",
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """CREATE TABLE technician_places (
      tenant_id uuid NOT NULL
        CONSTRAINT fk_technician_places_tenant_id_tenants REFERENCES tenants (id) ON DELETE CASCADE,
      technician_id uuid NOT NULL
        CONSTRAINT fk_technician_places_technician_id_technicians
        REFERENCES technicians (id) ON DELETE CASCADE,
      source varchar(4) NOT NULL CONSTRAINT ck_technician_places_source
        CHECK (source IN ('fix', 'home')),
      lat double precision NOT NULL,
      lon double precision NOT NULL,
      fixed_at timestamptz,
      active boolean NOT NULL,
      skill_levels jsonb NOT NULL,
      fresh tstzrange GENERATED ALWAYS AS (CASE WHEN source = 'fix'
        THEN tstzrange(NULL, fixed_at, '(]') ELSE tstzrange(fixed_at, NULL, '()') END) STORED,
      geog geography(Point, 4326)
        GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED,
      CONSTRAINT pk_technician_places PRIMARY KEY (tenant_id, technician_id, source)
    )""",
    "CREATE INDEX ix_technician_places_knn ON technician_places"
    " USING gist (tenant_id, fresh, geog)",
    f"""CREATE FUNCTION technician_places_from_technician() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.home_lat IS NULL OR NEW.home_lon IS NULL THEN
        DELETE FROM technician_places
        WHERE tenant_id = NEW.tenant_id AND technician_id = NEW.id AND source = 'home';
      ELSE
        INSERT INTO technician_places ({_COLUMNS})
        VALUES (NEW.tenant_id, NEW.id, 'home', NEW.home_lat, NEW.home_lon,
                (SELECT l.fixed_at FROM technician_locations l
                 WHERE l.tenant_id = NEW.tenant_id AND l.technician_id = NEW.id),
                NEW.active, NEW.skill_levels)
        ON CONFLICT (tenant_id, technician_id, source) DO UPDATE
        SET lat = EXCLUDED.lat, lon = EXCLUDED.lon, active = EXCLUDED.active,
            skill_levels = EXCLUDED.skill_levels;
      END IF;
      UPDATE technician_places SET active = NEW.active, skill_levels = NEW.skill_levels
      WHERE tenant_id = NEW.tenant_id AND technician_id = NEW.id AND source = 'fix';
      RETURN NULL;
    END $$""",
    """CREATE TRIGGER technician_places_technician
    AFTER INSERT OR UPDATE OF home_lat, home_lon, active, skill_levels ON technicians
    FOR EACH ROW EXECUTE FUNCTION technician_places_from_technician()""",
    f"""CREATE FUNCTION technician_places_from_location() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        DELETE FROM technician_places
        WHERE tenant_id = OLD.tenant_id AND technician_id = OLD.technician_id AND source = 'fix';
        UPDATE technician_places SET fixed_at = NULL
        WHERE tenant_id = OLD.tenant_id AND technician_id = OLD.technician_id AND source = 'home';
        RETURN NULL;
      END IF;
      INSERT INTO technician_places ({_COLUMNS})
      SELECT NEW.tenant_id, NEW.technician_id, 'fix', NEW.lat, NEW.lon, NEW.fixed_at,
             t.active, t.skill_levels
      FROM technicians t WHERE t.id = NEW.technician_id
      ON CONFLICT (tenant_id, technician_id, source) DO UPDATE
      SET lat = EXCLUDED.lat, lon = EXCLUDED.lon, fixed_at = EXCLUDED.fixed_at;
      UPDATE technician_places SET fixed_at = NEW.fixed_at
      WHERE tenant_id = NEW.tenant_id AND technician_id = NEW.technician_id AND source = 'home';
      RETURN NULL;
    END $$""",
    """CREATE TRIGGER technician_places_location
    AFTER INSERT OR UPDATE OF lat, lon, fixed_at OR DELETE ON technician_locations
    FOR EACH ROW EXECUTE FUNCTION technician_places_from_location()""",
    f"""INSERT INTO technician_places ({_COLUMNS})
    SELECT t.tenant_id, t.id, 'home', t.home_lat, t.home_lon, l.fixed_at, t.active, t.skill_levels
    FROM technicians t LEFT JOIN technician_locations l
      ON l.tenant_id = t.tenant_id AND l.technician_id = t.id
    WHERE t.home_lat IS NOT NULL AND t.home_lon IS NOT NULL
    UNION ALL
    SELECT t.tenant_id, t.id, 'fix', l.lat, l.lon, l.fixed_at, t.active, t.skill_levels
    FROM technicians t JOIN technician_locations l
      ON l.tenant_id = t.tenant_id AND l.technician_id = t.id""",
)

# Epoch seconds of a stored time (naive UTC text); R*Tree columns of the freshness
# range, a fix counting up to its (whole second + 1), a home base from its fix's.
_EPOCH = "CAST(strftime('%s', new.fixed_at) AS REAL)"
_MIN_T = f"CASE WHEN new.source = 'fix' OR new.fixed_at IS NULL THEN -1e12 ELSE {_EPOCH} END"
_MAX_T = f"CASE WHEN new.source = 'fix' THEN {_EPOCH} + 1 ELSE 1e12 END"
_HOME_ROW = f"""INSERT INTO technician_places ({_COLUMNS})
      SELECT new.tenant_id, new.id, 'home', new.home_lat, new.home_lon,
             (SELECT l.fixed_at FROM technician_locations l
              WHERE l.tenant_id = new.tenant_id AND l.technician_id = new.id),
             new.active, new.skill_levels
      WHERE new.home_lat IS NOT NULL AND new.home_lon IS NOT NULL
      ON CONFLICT (tenant_id, technician_id, source) DO UPDATE
      SET lat = excluded.lat, lon = excluded.lon, active = excluded.active,
          skill_levels = excluded.skill_levels;"""
_FIX_ROW = f"""INSERT INTO technician_places ({_COLUMNS})
      SELECT new.tenant_id, new.technician_id, 'fix', new.lat, new.lon, new.fixed_at,
             t.active, t.skill_levels
      FROM technicians t WHERE t.id = new.technician_id
      ON CONFLICT (tenant_id, technician_id, source) DO UPDATE
      SET lat = excluded.lat, lon = excluded.lon, fixed_at = excluded.fixed_at;
      UPDATE technician_places SET fixed_at = new.fixed_at
      WHERE tenant_id = new.tenant_id AND technician_id = new.technician_id AND source = 'home';"""

_SQLITE_UP = (
    """CREATE TABLE technician_places (
      id INTEGER PRIMARY KEY,
      tenant_id CHAR(32) NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      technician_id CHAR(32) NOT NULL REFERENCES technicians (id) ON DELETE CASCADE,
      source VARCHAR(4) NOT NULL CHECK (source IN ('fix', 'home')),
      lat FLOAT NOT NULL,
      lon FLOAT NOT NULL,
      fixed_at DATETIME,
      active BOOLEAN NOT NULL,
      skill_levels JSON NOT NULL,
      UNIQUE (tenant_id, technician_id, source)
    )""",
    "CREATE INDEX ix_technician_places_technician_id ON technician_places (technician_id)",
    "CREATE VIRTUAL TABLE technician_places_rtree"
    " USING rtree(id, min_lat, max_lat, min_lon, max_lon, min_t, max_t)",
    f"""CREATE TRIGGER technician_places_rtree_insert AFTER INSERT ON technician_places
    BEGIN INSERT INTO technician_places_rtree VALUES
      (new.id, new.lat, new.lat, new.lon, new.lon, {_MIN_T}, {_MAX_T}); END""",
    f"""CREATE TRIGGER technician_places_rtree_update
    AFTER UPDATE OF lat, lon, fixed_at, source ON technician_places
    BEGIN UPDATE technician_places_rtree SET min_lat = new.lat, max_lat = new.lat,
      min_lon = new.lon, max_lon = new.lon, min_t = {_MIN_T}, max_t = {_MAX_T}
      WHERE id = new.id; END""",
    """CREATE TRIGGER technician_places_rtree_delete AFTER DELETE ON technician_places
    BEGIN DELETE FROM technician_places_rtree WHERE id = old.id; END""",
    f"""CREATE TRIGGER technician_places_technician_insert AFTER INSERT ON technicians
    BEGIN {_HOME_ROW} END""",
    f"""CREATE TRIGGER technician_places_technician_update
    AFTER UPDATE OF home_lat, home_lon, active, skill_levels ON technicians
    BEGIN
      DELETE FROM technician_places
      WHERE tenant_id = new.tenant_id AND technician_id = new.id AND source = 'home'
        AND (new.home_lat IS NULL OR new.home_lon IS NULL);
      {_HOME_ROW}
      UPDATE technician_places SET active = new.active, skill_levels = new.skill_levels
      WHERE tenant_id = new.tenant_id AND technician_id = new.id AND source = 'fix';
    END""",
    f"""CREATE TRIGGER technician_places_location_insert AFTER INSERT ON technician_locations
    BEGIN {_FIX_ROW} END""",
    f"""CREATE TRIGGER technician_places_location_update
    AFTER UPDATE OF lat, lon, fixed_at ON technician_locations
    BEGIN {_FIX_ROW} END""",
    """CREATE TRIGGER technician_places_location_delete AFTER DELETE ON technician_locations
    BEGIN
      DELETE FROM technician_places
      WHERE tenant_id = old.tenant_id AND technician_id = old.technician_id AND source = 'fix';
      UPDATE technician_places SET fixed_at = NULL
      WHERE tenant_id = old.tenant_id AND technician_id = old.technician_id AND source = 'home';
    END""",
    _PG_UP[-1],  # the backfill: the same statement on both databases
)


def upgrade() -> None:
    statements = _PG_UP if op.get_bind().dialect.name == "postgresql" else _SQLITE_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE IF EXISTS technician_places")
        op.execute("DROP TRIGGER IF EXISTS technician_places_location ON technician_locations")
        op.execute("DROP TRIGGER IF EXISTS technician_places_technician ON technicians")
        op.execute("DROP FUNCTION IF EXISTS technician_places_from_location()")
        op.execute("DROP FUNCTION IF EXISTS technician_places_from_technician()")
        # btree_gist stays, like postgis: dropping an extension is a DBA's call.
        return
    for name in (
        "location_delete",
        "location_update",
        "location_insert",
        "technician_update",
        "technician_insert",
        "rtree_delete",
        "rtree_update",
        "rtree_insert",
    ):
        op.execute(f"DROP TRIGGER IF EXISTS technician_places_{name}")
    op.execute("DROP TABLE IF EXISTS technician_places_rtree")
    op.execute("DROP TABLE IF EXISTS technician_places")
