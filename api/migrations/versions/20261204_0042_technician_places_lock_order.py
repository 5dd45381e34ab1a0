"""technician places: a technician's change locks their fix row before their home row

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-04 17:00:00

PostgreSQL only. Migration 0041's trigger on ``technicians`` wrote the home row and
then the fix row; the one on ``technician_locations`` writes the fix row and then
the home row. A technician edited while their device's fix was being stored could
so take the two row locks in opposite orders and deadlock (one transaction aborted).
The function is replaced by one doing the same writes fix row first. SQLite has a
single writer at a time, so nothing changes there.
"""

from __future__ import annotations

from alembic import op

revision = "0042"
down_revision = "0041"
branch_labels = None
depends_on = None

_HOME = """
      IF NEW.home_lat IS NULL OR NEW.home_lon IS NULL THEN
        DELETE FROM technician_places
        WHERE tenant_id = NEW.tenant_id AND technician_id = NEW.id AND source = 'home';
      ELSE
        INSERT INTO technician_places
          (tenant_id, technician_id, source, lat, lon, fixed_at, active, skill_levels)
        VALUES (NEW.tenant_id, NEW.id, 'home', NEW.home_lat, NEW.home_lon,
                (SELECT l.fixed_at FROM technician_locations l
                 WHERE l.tenant_id = NEW.tenant_id AND l.technician_id = NEW.id),
                NEW.active, NEW.skill_levels)
        ON CONFLICT (tenant_id, technician_id, source) DO UPDATE
        SET lat = EXCLUDED.lat, lon = EXCLUDED.lon, active = EXCLUDED.active,
            skill_levels = EXCLUDED.skill_levels;
      END IF;"""
_FIX = """
      UPDATE technician_places SET active = NEW.active, skill_levels = NEW.skill_levels
      WHERE tenant_id = NEW.tenant_id AND technician_id = NEW.id AND source = 'fix';"""


def _function(body: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION technician_places_from_technician() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN{body}
      RETURN NULL;
    END $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(_FIX + _HOME))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(_HOME + _FIX))
