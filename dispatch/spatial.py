"""Where technicians are, searchable by distance: one interface, two databases.

A technician's *effective position* is their newest fix if it is fresh (at or
after ``fresh_since``), else their home base; a technician with neither is not
placed. :class:`SpatialIndex` answers "the ``limit`` technicians nearest to this
point" by effective position, ordered by an approximate (spherical) distance; the
caller refines the short list with exact geodesics.

- :class:`PostgisIndex`: KNN (``<->``) over GiST indexes on a geography column of
  ``technician_locations`` and an expression on technicians' home base.
- :class:`RTreeIndex`: SQLite's built-in R*Tree, which has no KNN: a box around
  the point grows until the ``limit`` nearest inside it are all closer than the
  box's edge, which makes them the true nearest.

Both read the structures migration 0025 creates; the database keeps them in step.
The antimeridian is not handled (a box is clipped at ±180°), which is fine for the
fleets Fieldline serves.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Connection, DateTime, Float, String, Uuid, bindparam, text

from dispatch.geo import metres

FIX = "fix"
HOME = "home"
# Below the true ~111.2 km, so a box is never smaller than the circle it must hold.
_METRES_PER_DEGREE = 111_000.0


@dataclass(frozen=True)
class Located:
    technician_id: uuid.UUID
    lat: float
    lon: float
    source: str  # FIX or HOME
    fixed_at: datetime | None  # the fix's time; None for a home base
    approx_m: float  # spherical distance to the query point


class SpatialIndex(Protocol):
    def nearest(
        self,
        connection: Connection,
        tenant_id: uuid.UUID,
        lat: float,
        lon: float,
        *,
        fresh_since: datetime,
        limit: int,
        skill: tuple[str, int] | None = None,
    ) -> list[Located]:
        """The ``limit`` technicians nearest to (lat, lon) by effective position;
        with ``skill`` (name, minimum level), only active ones who have it."""
        ...


def index_for(dialect_name: str) -> SpatialIndex:
    return PostgisIndex() if dialect_name == "postgresql" else RTreeIndex()


_PG_POINT = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography"
_PG_HOME = "ST_SetSRID(ST_MakePoint(t.home_lon, t.home_lat), 4326)::geography"
_PG_NEAREST = (
    text(
        """
    SELECT technician_id, lat, lon, source, fixed_at, d FROM (
      (SELECT l.technician_id, l.lat, l.lon, 'fix' AS source, l.fixed_at,
              l.geog <-> POINT AS d
       FROM technician_locations l
       WHERE l.tenant_id = :tenant AND l.fixed_at >= :fresh
         AND (:skill IS NULL OR EXISTS (
           SELECT 1 FROM technicians a JOIN technician_skills s ON s.technician_id = a.id
           WHERE a.id = l.technician_id AND a.active AND s.skill = :skill AND s.level >= :level))
       ORDER BY l.geog <-> POINT LIMIT :k)
      UNION ALL
      (SELECT t.id, t.home_lat, t.home_lon, 'home', NULL, HOME <-> POINT
       FROM technicians t
       WHERE t.tenant_id = :tenant AND t.home_lat IS NOT NULL AND t.home_lon IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM technician_locations f
                         WHERE f.tenant_id = t.tenant_id AND f.technician_id = t.id
                           AND f.fixed_at >= :fresh)
         AND (:skill IS NULL OR (t.active AND EXISTS (
           SELECT 1 FROM technician_skills s
           WHERE s.technician_id = t.id AND s.skill = :skill AND s.level >= :level)))
       ORDER BY HOME <-> POINT LIMIT :k)
    ) AS nearest ORDER BY d LIMIT :k
    """.replace("POINT", _PG_POINT).replace("HOME", _PG_HOME)
    )
    .bindparams(
        bindparam("tenant", type_=Uuid()),
        bindparam("fresh", type_=DateTime(timezone=True)),
        bindparam("skill", type_=String()),
    )
    .columns(technician_id=Uuid(), lat=Float(), lon=Float(), source=String(), d=Float())
)


class PostgisIndex:
    def nearest(
        self,
        connection: Connection,
        tenant_id: uuid.UUID,
        lat: float,
        lon: float,
        *,
        fresh_since: datetime,
        limit: int,
        skill: tuple[str, int] | None = None,
    ) -> list[Located]:
        rows = connection.execute(
            _PG_NEAREST,
            {"tenant": tenant_id, "lat": lat, "lon": lon, "fresh": fresh_since, "k": limit}
            | _skill_params(skill),
        )
        return [
            Located(row.technician_id, row.lat, row.lon, row.source, row.fixed_at, row.d)
            for row in rows
        ]


_RTREE_BOX = (
    text(
        """
    SELECT l.technician_id, l.lat, l.lon, 'fix' AS source, l.fixed_at
    FROM technician_locations_rtree r CROSS JOIN technician_locations l ON l.rowid = r.id
    WHERE r.min_lat >= :south AND r.max_lat <= :north
      AND r.min_lon >= :west AND r.max_lon <= :east
      AND l.tenant_id = :tenant AND l.fixed_at >= :fresh
         AND (:skill IS NULL OR EXISTS (
           SELECT 1 FROM technicians a JOIN technician_skills s ON s.technician_id = a.id
           WHERE a.id = l.technician_id AND a.active AND s.skill = :skill AND s.level >= :level))
    UNION ALL
    SELECT t.id, t.home_lat, t.home_lon, 'home', NULL
    FROM technician_homes_rtree h CROSS JOIN technicians t ON t.rowid = h.id
    WHERE h.min_lat >= :south AND h.max_lat <= :north
      AND h.min_lon >= :west AND h.max_lon <= :east
      AND t.tenant_id = :tenant
      AND NOT EXISTS (SELECT 1 FROM technician_locations f
                      WHERE f.tenant_id = t.tenant_id AND f.technician_id = t.id
                        AND f.fixed_at >= :fresh)
         AND (:skill IS NULL OR (t.active AND EXISTS (
           SELECT 1 FROM technician_skills s
           WHERE s.technician_id = t.id AND s.skill = :skill AND s.level >= :level)))
    """
    )
    .bindparams(
        bindparam("tenant", type_=Uuid()),
        bindparam("fresh", type_=DateTime()),
        bindparam("skill", type_=String()),
    )
    .columns(technician_id=Uuid(), lat=Float(), lon=Float(), source=String(), fixed_at=DateTime())
)


class RTreeIndex:
    def __init__(self, first_radius_m: float = 2_000.0) -> None:
        self.first_radius_m = first_radius_m

    def nearest(
        self,
        connection: Connection,
        tenant_id: uuid.UUID,
        lat: float,
        lon: float,
        *,
        fresh_since: datetime,
        limit: int,
        skill: tuple[str, int] | None = None,
    ) -> list[Located]:
        fresh = fresh_since.astimezone(UTC).replace(tzinfo=None)  # stored as naive UTC
        radius = self.first_radius_m
        while True:
            whole_earth = radius >= 20_000_000
            south, north, west, east = _box(lat, lon, radius)
            rows = connection.execute(
                _RTREE_BOX,
                {"tenant": tenant_id, "fresh": fresh, "south": south, "north": north}
                | {"west": west, "east": east}
                | _skill_params(skill),
            )
            found = sorted(
                (
                    Located(
                        row.technician_id,
                        row.lat,
                        row.lon,
                        row.source,
                        None if row.fixed_at is None else row.fixed_at.replace(tzinfo=UTC),
                        metres(lat, lon, row.lat, row.lon),
                    )
                    for row in rows
                ),
                key=lambda located: located.approx_m,
            )[:limit]
            # Everything within ``radius`` is inside the box, so once the limit-th
            # nearest is within it, nothing outside the box can be nearer.
            if whole_earth or (len(found) == limit and found[-1].approx_m <= radius):
                return found
            radius *= 2


def _skill_params(skill: tuple[str, int] | None) -> dict[str, object]:
    return {"skill": skill[0] if skill else None, "level": skill[1] if skill else 0}


def _box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    dlat = radius_m / _METRES_PER_DEGREE
    south, north = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    widest = max(abs(south), abs(north))
    if widest >= 89.9 or radius_m >= 20_000_000:
        return south, north, -180.0, 180.0
    # A degree of longitude is shortest at the box's pole-most edge: size for that.
    dlon = radius_m / (_METRES_PER_DEGREE * math.cos(math.radians(widest)))
    if dlon >= 180:
        return south, north, -180.0, 180.0
    return south, north, max(-180.0, lon - dlon), min(180.0, lon + dlon)
