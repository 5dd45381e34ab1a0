"""technician places: the facts dispatch reads on the row, and writers that meet

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-04 19:30:00

``facts``: the technician's name, certifications, working hours, time zone and
skill levels as one JSON document on both of their ``technician_places`` rows,
kept by the same triggers as ``active`` and ``skill_levels``. The nearest qualified
search (dispatch.spatial ``qualified``) then reads one table: no join to
``technicians`` per row, and plain JSON text out instead of several jsonb columns.

PostgreSQL: a technician's change and their first fix used to miss each other. Under
READ COMMITTED each trigger read the other's row before it was committed: a home
base set while the first fix was being stored got no fix time (so the home row
counted for every freshness limit beside the fix row: the technician listed twice),
and a fix row stored while the technician was deactivated kept the old facts. The
technician trigger now locks the technician ``FOR UPDATE`` (a new fix's foreign-key
check takes ``FOR KEY SHARE`` on that row, so one of the two waits for the other to
commit) and reads the current fix ``FOR SHARE`` (a later fix updates that row: the
same). Row locks are taken technician, fix, fix row, home row, in the order the fix
writers take them (migration 0042), so the two never deadlock. Only technician
changes take the new locks; storing a fix costs what it did. SQLite has one writer
at a time, so only ``facts`` changes there.
"""

# ruff: noqa: S608 (the statements are built from this module's constants only)
from __future__ import annotations

from alembic import op

revision = "0043"
down_revision = "0042"
branch_labels = None
depends_on = None

_WATCHED = "home_lat, home_lon, active, skill_levels"
_FACT_COLUMNS = ("name", "certifications", "working_hours", "timezone", "skill_levels")


def _pg_facts(row: str) -> str:
    return "json_build_object(" + ", ".join(f"'{c}', {row}.{c}" for c in _FACT_COLUMNS) + ")"


def _pg_technician_function(facts: bool) -> str:
    columns = "tenant_id, technician_id, source, lat, lon, fixed_at, active, skill_levels"
    values = "NEW.active, NEW.skill_levels"
    if facts:
        columns, values = columns + ", facts", values + ", " + _pg_facts("NEW")
    locks = (
        """
      PERFORM 1 FROM technicians WHERE id = NEW.id FOR UPDATE;
      SELECT l.fixed_at INTO fix_time FROM technician_locations l
      WHERE l.tenant_id = NEW.tenant_id AND l.technician_id = NEW.id FOR SHARE;"""
        if facts
        else """
      SELECT l.fixed_at INTO fix_time FROM technician_locations l
      WHERE l.tenant_id = NEW.tenant_id AND l.technician_id = NEW.id;"""
    )
    set_facts = ", facts = EXCLUDED.facts, fixed_at = EXCLUDED.fixed_at" if facts else ""
    return f"""CREATE OR REPLACE FUNCTION technician_places_from_technician() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE fix_time timestamptz;
    BEGIN{locks}
      UPDATE technician_places SET active = NEW.active, skill_levels = NEW.skill_levels
        {", facts = " + _pg_facts("NEW") if facts else ""}
      WHERE tenant_id = NEW.tenant_id AND technician_id = NEW.id AND source = 'fix';
      IF NEW.home_lat IS NULL OR NEW.home_lon IS NULL THEN
        DELETE FROM technician_places
        WHERE tenant_id = NEW.tenant_id AND technician_id = NEW.id AND source = 'home';
      ELSE
        INSERT INTO technician_places ({columns})
        VALUES (NEW.tenant_id, NEW.id, 'home', NEW.home_lat, NEW.home_lon, fix_time, {values})
        ON CONFLICT (tenant_id, technician_id, source) DO UPDATE
        SET lat = EXCLUDED.lat, lon = EXCLUDED.lon, active = EXCLUDED.active,
            skill_levels = EXCLUDED.skill_levels{set_facts};
      END IF;
      RETURN NULL;
    END $$"""


def _pg_location_function(facts: bool) -> str:
    columns = "tenant_id, technician_id, source, lat, lon, fixed_at, active, skill_levels"
    values = "t.active, t.skill_levels"
    if facts:
        columns, values = columns + ", facts", values + ", " + _pg_facts("t")
    return f"""CREATE OR REPLACE FUNCTION technician_places_from_location() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        DELETE FROM technician_places
        WHERE tenant_id = OLD.tenant_id AND technician_id = OLD.technician_id AND source = 'fix';
        UPDATE technician_places SET fixed_at = NULL
        WHERE tenant_id = OLD.tenant_id AND technician_id = OLD.technician_id AND source = 'home';
        RETURN NULL;
      END IF;
      INSERT INTO technician_places ({columns})
      SELECT NEW.tenant_id, NEW.technician_id, 'fix', NEW.lat, NEW.lon, NEW.fixed_at, {values}
      FROM technicians t WHERE t.id = NEW.technician_id
      ON CONFLICT (tenant_id, technician_id, source) DO UPDATE
      SET lat = EXCLUDED.lat, lon = EXCLUDED.lon, fixed_at = EXCLUDED.fixed_at;
      UPDATE technician_places SET fixed_at = NEW.fixed_at
      WHERE tenant_id = NEW.tenant_id AND technician_id = NEW.technician_id AND source = 'home';
      RETURN NULL;
    END $$"""


def _pg_trigger(watched: str) -> tuple[str, str]:
    return (
        "DROP TRIGGER technician_places_technician ON technicians",
        f"""CREATE TRIGGER technician_places_technician
        AFTER INSERT OR UPDATE OF {watched} ON technicians
        FOR EACH ROW EXECUTE FUNCTION technician_places_from_technician()""",
    )


_PG_UP = (
    "ALTER TABLE technician_places ADD COLUMN facts json",
    f"""UPDATE technician_places p SET facts = {_pg_facts("t")}
    FROM technicians t WHERE t.id = p.technician_id""",
    "ALTER TABLE technician_places ALTER COLUMN facts SET NOT NULL",
    _pg_technician_function(facts=True),
    _pg_location_function(facts=True),
    *_pg_trigger(_WATCHED + ", " + ", ".join(_FACT_COLUMNS[:4])),
)
_PG_DOWN = (
    _pg_technician_function(facts=False),
    _pg_location_function(facts=False),
    *_pg_trigger(_WATCHED),
    "ALTER TABLE technician_places DROP COLUMN facts",
)


def _sqlite_facts(row: str) -> str:
    parts = (
        f"'{c}', {row}.{c}" if c in ("name", "timezone") else f"'{c}', json({row}.{c})"
        for c in _FACT_COLUMNS
    )
    return "json_object(" + ", ".join(parts) + ")"


def _sqlite_triggers(facts: bool) -> tuple[str, ...]:
    """Migration 0041's triggers on technicians and their fixes, with ``facts`` or not."""
    columns = "tenant_id, technician_id, source, lat, lon, fixed_at, active, skill_levels"
    home_values, fix_values = "new.active, new.skill_levels", "t.active, t.skill_levels"
    set_home = set_fix = ""
    watched = _WATCHED
    if facts:
        columns += ", facts"
        home_values += ", " + _sqlite_facts("new")
        fix_values += ", " + _sqlite_facts("t")
        set_home, set_fix = ", facts = excluded.facts", ", facts = " + _sqlite_facts("new")
        watched += ", " + ", ".join(_FACT_COLUMNS[:4])
    home_row = f"""INSERT INTO technician_places ({columns})
      SELECT new.tenant_id, new.id, 'home', new.home_lat, new.home_lon,
             (SELECT l.fixed_at FROM technician_locations l
              WHERE l.tenant_id = new.tenant_id AND l.technician_id = new.id),
             {home_values}
      WHERE new.home_lat IS NOT NULL AND new.home_lon IS NOT NULL
      ON CONFLICT (tenant_id, technician_id, source) DO UPDATE
      SET lat = excluded.lat, lon = excluded.lon, active = excluded.active,
          skill_levels = excluded.skill_levels{set_home};"""
    fix_row = f"""INSERT INTO technician_places ({columns})
      SELECT new.tenant_id, new.technician_id, 'fix', new.lat, new.lon, new.fixed_at,
             {fix_values}
      FROM technicians t WHERE t.id = new.technician_id
      ON CONFLICT (tenant_id, technician_id, source) DO UPDATE
      SET lat = excluded.lat, lon = excluded.lon, fixed_at = excluded.fixed_at;
      UPDATE technician_places SET fixed_at = new.fixed_at
      WHERE tenant_id = new.tenant_id AND technician_id = new.technician_id AND source = 'home';"""
    return (
        *(
            f"DROP TRIGGER technician_places_{name}"
            for name in (
                "technician_insert",
                "technician_update",
                "location_insert",
                "location_update",
            )
        ),
        f"""CREATE TRIGGER technician_places_technician_insert AFTER INSERT ON technicians
        BEGIN {home_row} END""",
        f"""CREATE TRIGGER technician_places_technician_update
        AFTER UPDATE OF {watched} ON technicians
        BEGIN
          DELETE FROM technician_places
          WHERE tenant_id = new.tenant_id AND technician_id = new.id AND source = 'home'
            AND (new.home_lat IS NULL OR new.home_lon IS NULL);
          {home_row}
          UPDATE technician_places SET active = new.active, skill_levels = new.skill_levels
            {set_fix}
          WHERE tenant_id = new.tenant_id AND technician_id = new.id AND source = 'fix';
        END""",
        f"""CREATE TRIGGER technician_places_location_insert AFTER INSERT ON technician_locations
        BEGIN {fix_row} END""",
        f"""CREATE TRIGGER technician_places_location_update
        AFTER UPDATE OF lat, lon, fixed_at ON technician_locations
        BEGIN {fix_row} END""",
    )


_SQLITE_UP = (
    # Added nullable (SQLite cannot add a NOT NULL column without a default); the
    # triggers write it on every row they write.
    "ALTER TABLE technician_places ADD COLUMN facts JSON",
    f"""UPDATE technician_places SET facts = (SELECT {_sqlite_facts("t")} FROM technicians t
    WHERE t.id = technician_places.technician_id)""",
    *_sqlite_triggers(facts=True),
)
_SQLITE_DOWN = (*_sqlite_triggers(facts=False), "ALTER TABLE technician_places DROP COLUMN facts")


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in _PG_UP if postgresql else _SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in _PG_DOWN if postgresql else _SQLITE_DOWN:
        op.execute(statement)
