"""technician places: the skills in the spatial index, so the scan skips the unskilled

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-04 22:30:00

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

The column is generated from ``active`` and ``skill_levels``, so every write that
keeps those (the triggers of migrations 0041-0043) keeps it too; the functions are
IMMUTABLE and must never change meaning without rewriting the column. SQLite: no
change (its R*Tree search reads the row's skills as before).
"""

from __future__ import annotations

from alembic import op

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None

_INDEX = "CREATE INDEX ix_technician_places_knn ON technician_places USING gist"
_PG_UP = (
    # Trusted since PostgreSQL 13: the database owner may create it.
    "CREATE EXTENSION IF NOT EXISTS intarray",
    """CREATE FUNCTION technician_skill_code(skill text, level integer) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT ('x' || left(md5(skill || ':' || level), 8))::bit(32)::integer $$""",
    """CREATE FUNCTION technician_skill_codes(active boolean, skill_levels jsonb)
    RETURNS integer[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT coalesce(array_agg(DISTINCT technician_skill_code(s.key, n)), '{}')
          FROM jsonb_each_text(skill_levels) AS s, generate_series(1, s.value::integer) AS n
          WHERE active $$""",
    """ALTER TABLE technician_places ADD COLUMN skill_codes integer[]
    GENERATED ALWAYS AS (technician_skill_codes(active, skill_levels)) STORED""",
    "DROP INDEX ix_technician_places_knn",
    _INDEX + " (tenant_id, fresh, geog, skill_codes gist__int_ops)",
)
_PG_DOWN = (
    "DROP INDEX ix_technician_places_knn",
    "ALTER TABLE technician_places DROP COLUMN skill_codes",
    "DROP FUNCTION technician_skill_codes(boolean, jsonb)",
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
