"""The spatial index on SQLite: its built-in R*Tree, which has no KNN.

A box around the point grows until the ``limit`` nearest inside it are all closer
than the box's edge, which makes them the true nearest. ``nearest`` and
``shortlist`` search the R*Trees of fixes and home bases (migration 0025);
``qualified`` searches the one of ``technician_places`` (migration 0041), whose third
dimension is the freshness range each row counts for, then reads the facts of the
``limit`` nearest from their rows (migration 0043) in one more statement.
"""

from __future__ import annotations

import functools
import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Float, String, Uuid, bindparam, text

from dispatch.geo import metres
from dispatch.spatial.places import Located, Placed
from dispatch.spatial.statements import (
    FACT_COLUMNS,
    driver_rows,
    in_list,
    placed_by_facts,
    placed_from_row,
    skill_params,
)

# Below the true ~111.2 km, so a box is never smaller than the circle it must hold.
_METRES_PER_DEGREE = 111_000.0


_RTREE_BOX_SQL = """
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
_RTREE_BOX = (
    text(_RTREE_BOX_SQL)
    .bindparams(
        bindparam("tenant", type_=Uuid()),
        bindparam("fresh", type_=DateTime()),
        bindparam("skill", type_=String()),
    )
    .columns(technician_id=Uuid(), lat=Float(), lon=Float(), source=String(), fixed_at=DateTime())
)


# SQLite: the box loop stays lean (positions only), then the facts of the ``limit``
# nearest in one more query; reading them for every row of every box (JSON decoded
# for hundreds of rows) measured slower than the second round trip, which in-process
# SQLite makes cheap.
_RTREE_FACTS = (
    text(
        """
    SELECT t.id AS technician_id, t.name, t.active, t.certifications, t.working_hours,
           t.timezone, t.skill_levels,
           (SELECT count(*) FROM work_orders w
            WHERE w.tenant_id = :tenant AND w.assignee_id = t.id
              AND w.status IN :open) AS open_orders
    FROM technicians t WHERE t.tenant_id = :tenant AND t.id IN :ids
    """
    )
    .bindparams(
        bindparam("tenant", type_=Uuid()),
        bindparam("ids", expanding=True, type_=Uuid()),
        bindparam("open", expanding=True),
    )
    .columns(**FACT_COLUMNS)
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
            south, north, west, east = box(lat, lon, radius)
            rows = connection.execute(
                _RTREE_BOX,
                {"tenant": tenant_id, "fresh": fresh, "south": south, "north": north}
                | {"west": west, "east": east}
                | skill_params(skill),
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

    def shortlist(
        self,
        connection: Connection,
        tenant_id: uuid.UUID,
        lat: float,
        lon: float,
        *,
        fresh_since: datetime,
        limit: int,
        open_statuses: Sequence[str],
    ) -> list[Placed]:
        near = self.nearest(connection, tenant_id, lat, lon, fresh_since=fresh_since, limit=limit)
        if not near:
            return []
        facts = {
            row.technician_id: row
            for row in connection.execute(
                _RTREE_FACTS,
                {"tenant": tenant_id, "ids": [n.technician_id for n in near]}
                | {"open": list(open_statuses)},
            )
        }
        return [
            placed_from_row(facts[n.technician_id], n) for n in near if n.technician_id in facts
        ]

    def qualified(
        self,
        connection: Connection,
        tenant_id: uuid.UUID,
        lat: float,
        lon: float,
        *,
        fresh_since: datetime,
        limit: int,
        skills: Mapping[str, int],
        open_statuses: Sequence[str],
    ) -> list[Placed]:
        needs = sorted(skills.items())
        sql = _rtree_qualified_sql(len(needs))
        # As SQLAlchemy stores them: UUIDs as 32 hex digits, times as naive UTC text.
        fresh = fresh_since.astimezone(UTC).replace(tzinfo=None)
        params: dict[str, Any] = {
            "tenant": tenant_id.hex, "fresh": fresh.isoformat(sep=" ", timespec="microseconds"),
            "fresh_t": fresh_since.timestamp(),
        }  # fmt: skip
        for n, (skill, level) in enumerate(needs):
            params[f"p{n}"], params[f"l{n}"] = '$."' + skill.replace('"', '\\"') + '"', level
        hint = (tenant_id, limit, tuple(needs))
        radius = _RADIUS_HINTS.get(hint, self.first_radius_m)
        while True:
            whole_earth = radius >= 20_000_000
            south, north, west, east = box(lat, lon, radius)
            params |= {"south": south, "north": north, "west": west, "east": east}
            rows = driver_rows(connection, sql, params)
            near = sorted(((metres(lat, lon, r[1], r[2]), r) for r in rows), key=_first)
            if whole_earth or (len(near) >= limit and near[limit - 1][0] <= radius):
                if len(near) >= limit:
                    _remember_radius(hint, near[limit - 1][0])
                return _rtree_facts(connection, near[:limit], tuple(open_statuses))
            radius *= _growth(sum(1 for approx_m, _ in near if approx_m <= radius), limit)


# Where the last search for the same tenant, list length and skills found its
# ``limit``-th technician, a little widened: where the next one should start. A hint
# only (any radius gives the same answer, a wrong one costs a box more); per process,
# bounded. Starting every search at 2 km took two boxes on average for rare skills.
_RADIUS_HINTS: dict[tuple[Any, ...], float] = {}
_HINT_MARGIN = 1.25


def _remember_radius(hint: tuple[Any, ...], limit_th_m: float) -> None:
    if len(_RADIUS_HINTS) >= 4096:
        _RADIUS_HINTS.clear()
    _RADIUS_HINTS[hint] = max(limit_th_m * _HINT_MARGIN, 100.0)


def _rtree_facts(
    connection: Connection, near: Sequence[tuple[float, Any]], open_statuses: tuple[str, ...]
) -> list[Placed]:
    """The facts of the nearest found, from their ``technician_places`` rows, in one more
    query: reading them for every row of every box (JSON text, the open orders counted)
    cost several times the box itself, and in-process SQLite makes the second statement
    cheap."""
    if not near:
        return []
    params = {f"p{n}": row[5] for n, (_, row) in enumerate(near)}
    facts = {
        row[0]: row
        for row in driver_rows(connection, _rtree_facts_sql(len(near), open_statuses), params)
    }
    return [
        placed_by_facts(_located(row, approx_m), facts[row[5]][1], facts[row[5]][2])
        for approx_m, row in near
        if row[5] in facts
    ]


# The same box again, seen from the other corners (a point's min and max are equal):
# true of every row, but the R*Tree divides its row estimate by 2 per constraint, so
# the planner never expects tens of thousands of rows from the box. With the
# estimate of an R*Tree opened before its statistics existed (a million rows),
# SQLite built a Bloom filter over both joined tables on every query: 15 ms.
_ROWS_HINT = """
      AND {a}.max_lat >= :south AND {a}.min_lat <= :north AND {a}.max_lon >= :west
      AND {a}.min_lon <= :east"""


@functools.lru_cache(maxsize=64)
def _rtree_qualified_sql(skill_count: int) -> str:
    """One box of ``technician_places`` (migration 0041) through its R*Tree, whose third
    dimension is the freshness range each row counts for; the R*Tree's rounding makes
    that dimension approximate, so the row's ``fixed_at`` decides exactly."""
    has = "".join(f" AND json_extract(p.skill_levels, :p{n}) >= :l{n}" for n in range(skill_count))
    return f"""
    SELECT p.technician_id, p.lat, p.lon, p.source, CASE WHEN p.source = 'fix' THEN p.fixed_at END,
           p.id
    FROM technician_places_rtree r CROSS JOIN technician_places p ON p.id = r.id
    WHERE r.min_lat >= :south AND r.max_lat <= :north AND r.min_lon >= :west
      AND r.max_lon <= :east{_ROWS_HINT.format(a="r")}
      AND r.min_t <= :fresh_t AND r.max_t >= :fresh_t
      AND p.tenant_id = :tenant AND p.active
      AND CASE WHEN p.source = 'fix' THEN p.fixed_at >= :fresh
               ELSE p.fixed_at IS NULL OR p.fixed_at < :fresh END{has}
    """  # noqa: S608 (constants and placeholders only)


@functools.lru_cache(maxsize=64)
def _rtree_facts_sql(count: int, open_statuses: tuple[str, ...]) -> str:
    ids = ", ".join(f":p{n}" for n in range(count))
    return f"""
    SELECT p.id, p.facts,
           (SELECT count(*) FROM work_orders w
            WHERE w.tenant_id = p.tenant_id AND w.assignee_id = p.technician_id
              AND w.status IN ({in_list(open_statuses)}))
    FROM technician_places p WHERE p.id IN ({ids})
    """  # noqa: S608 (constants and placeholders only)


def _growth(inside: int, limit: int) -> float:
    """How much to widen a box whose circle held ``inside`` of the ``limit`` wanted:
    to where, at the density seen so far, the circle should hold half again the
    limit (one more query, usually), never less than ×1.5 nor more than ×4. A box's
    cost grows with its area, so overshooting by doubling cost more than it saved."""
    return min(4.0, max(1.5, math.sqrt(1.5 * limit / max(inside, 1))))


def _first(pair: tuple[float, Any]) -> float:
    return pair[0]


def _located(row: Any, approx_m: float) -> Located:
    """A row of the SQLite qualified box query, its values as SQLite's driver returns them."""
    fixed_at = None if row[4] is None else datetime.fromisoformat(row[4]).replace(tzinfo=UTC)
    return Located(uuid.UUID(hex=row[0]), row[1], row[2], row[3], fixed_at, approx_m)


def box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
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
