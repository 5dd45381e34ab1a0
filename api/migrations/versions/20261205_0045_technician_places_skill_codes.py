"""technician places: the skills in the spatial index, so the scan skips the unskilled

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-05 22:30:00

PostgreSQL only. The nearest qualified search (dispatch.spatial ``qualified``) walked
``technician_places`` nearest first and read each row from the table to test its
skills: about four rows read for each one kept. ``skill_codes`` holds one integer
per (skill, level) the technician can serve, each of their skills at their level
and every level below it, and only while they are active (an inactive technician
has none); the KNN index holds it too (``intarray``'s ``gist__int_ops``, after
``geog`` so space still shapes the tree), so ``skill_codes @> ARRAY[code]`` is
tested in the index during the scan and unqualified rows are never read.

A code is the first 32 bits of the MD5 of ``'skill:level'``
(``technician_skill_code``): skills are a tenant's free text, so there is no list
to number, and MD5, unlike ``hashtext``, is the same on every server version, so
stored codes stay valid across upgrades. Two pairs may share a code: the search
still tests ``skill_levels`` on each row it keeps, so its answers stay exact.

A trigger on ``technician_places`` writes the codes whenever a row is inserted or
its ``active`` or ``skill_levels`` is written, which is how migrations 0041-0043's
triggers carry every change of a technician there; a new fix (which writes only
``lat``, ``lon`` and ``fixed_at``) leaves them as they are. ``technician_skill_code`` is
IMMUTABLE and must never change meaning without rewriting the column. SQLite: no
change (its R*Tree search reads the row's skills as before).
"""

from __future__ import annotations

from alembic import op

revision = "0045"
down_revision = "0044"
branch_labels = None
depends_on = None

_INDEX = "CREATE INDEX ix_technician_places_knn ON technician_places USING gist"
_PG_UP = (
    # Trusted since PostgreSQL 13: the database owner may create it.
    "CREATE EXTENSION IF NOT EXISTS intarray",
    """CREATE FUNCTION technician_skill_code(skill text, level integer) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT ('x' || left(md5(skill || ':' || level), 8))::bit(32)::integer $$""",
    # Loops, not one ARRAY(SELECT ...) over the skills and levels: a fifth of the cost.
    """CREATE FUNCTION technician_places_skill_codes() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
      codes integer[] := '{}';
      skill text;
      level text;
    BEGIN
      IF NEW.active THEN
        FOR skill, level IN SELECT * FROM jsonb_each_text(NEW.skill_levels) LOOP
          FOR n IN 1 .. level::integer LOOP
            codes := codes || technician_skill_code(skill, n);
          END LOOP;
        END LOOP;
      END IF;
      NEW.skill_codes := codes;
      RETURN NEW;
    END $$""",
    "ALTER TABLE technician_places ADD COLUMN skill_codes integer[] NOT NULL DEFAULT '{}'",
    """CREATE TRIGGER technician_places_skill_codes
    BEFORE INSERT OR UPDATE OF active, skill_levels ON technician_places
    FOR EACH ROW EXECUTE FUNCTION technician_places_skill_codes()""",
    "UPDATE technician_places SET skill_levels = skill_levels",  # the codes of every row
    "ALTER TABLE technician_places ALTER COLUMN skill_codes DROP DEFAULT",
    "DROP INDEX ix_technician_places_knn",
    _INDEX + " (tenant_id, fresh, geog, skill_codes gist__int_ops)",
)
_PG_DOWN = (
    "DROP INDEX ix_technician_places_knn",
    "DROP TRIGGER technician_places_skill_codes ON technician_places",
    "ALTER TABLE technician_places DROP COLUMN skill_codes",
    "DROP FUNCTION technician_places_skill_codes()",
    "DROP FUNCTION technician_skill_code(text, integer)",
    _INDEX + " (tenant_id, fresh, geog)",
    # intarray stays, like postgis and btree_gist: dropping an extension is a DBA's call.
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _PG_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _PG_DOWN:
            op.execute(statement)
