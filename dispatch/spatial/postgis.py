"""The spatial index on PostgreSQL: PostGIS KNN (``<->``) over GiST indexes.

``nearest`` and ``shortlist`` merge a KNN over ``technician_locations``' geography
and one over an expression on technicians' home bases (migration 0025).
``qualified`` is one KNN scan of ``technician_places`` (migrations 0041-0043, 0045), whose
GiST index holds the tenant, the freshness range each row counts for (a fix up to
its time, a home base after it) and codes of the skills, so a stale fix is skipped
and its home row found without a sweep, and an unskilled technician is never read;
the row carries the technician's facts, so the statement reads no other table but
the open orders.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Float, String, Uuid, bindparam, text

from dispatch.spatial.places import Located, Placed
from dispatch.spatial.statements import (
    driver_rows,
    facts_statement,
    in_list,
    placed_by_facts,
    placed_from_row,
    skill_params,
)

_PG_POINT = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography"
_PG_HOME = "ST_SetSRID(ST_MakePoint(t.home_lon, t.home_lat), 4326)::geography"
_PG_NEAREST_SQL = """
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
_PG_NEAREST = (
    text(_PG_NEAREST_SQL)
    .bindparams(
        bindparam("tenant", type_=Uuid()),
        bindparam("fresh", type_=DateTime(timezone=True)),
        bindparam("skill", type_=String()),
    )
    .columns(technician_id=Uuid(), lat=Float(), lon=Float(), source=String(), d=Float())
)


_PG_SHORTLIST = facts_statement(_PG_NEAREST_SQL, DateTime(timezone=True), "n.d")


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
            | skill_params(skill),
        )
        return [
            Located(row.technician_id, row.lat, row.lon, row.source, row.fixed_at, row.d)
            for row in rows
        ]

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
        rows = connection.execute(
            _PG_SHORTLIST,
            {"tenant": tenant_id, "lat": lat, "lon": lon, "fresh": fresh_since, "k": limit}
            | skill_params(None)
            | {"open": list(open_statuses)},
        )
        placed = [
            placed_from_row(
                row, Located(row.technician_id, row.lat, row.lon, row.source, row.fixed_at, row.d)
            )
            for row in rows
        ]
        placed.sort(key=lambda p: p.located.approx_m)
        return placed

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
        sql = _qualified_sql(len(needs), tuple(open_statuses))
        params: dict[str, Any] = {
            "tenant": tenant_id, "lat": lat, "lon": lon, "fresh": fresh_since, "k": limit,
        }  # fmt: skip
        for n, (skill, level) in enumerate(needs):
            params[f"s{n}"], params[f"l{n}"] = skill, level
        return [
            placed_by_facts(Located(tech_id, t_lat, t_lon, source, fixed_at, d), facts, open_orders)
            for tech_id, t_lat, t_lon, source, fixed_at, d, facts, open_orders in driver_rows(
                connection, sql, params
            )
        ]


@functools.lru_cache(maxsize=64)
def _qualified_sql(skill_count: int, open_statuses: tuple[str, ...]) -> str:
    """One KNN scan of ``technician_places``: only rows of this tenant that place their
    technician under this freshness limit, and whose ``skill_codes`` hold a code of
    each skill at its level (migration 0045), are read (the GiST index holds all
    three); each row has the facts (migration 0043): no join, one JSON text out per
    row. Codes may collide, so ``skill_levels`` decides on the rows read."""
    has = "".join(
        f" AND (p.skill_levels ->> %(s{n})s)::int >= %(l{n})s" for n in range(skill_count)
    )
    if skill_count:  # a level under 1 asks only for the skill, as level 1 does
        codes = ", ".join(
            f"technician_skill_code(%(s{n})s, greatest(%(l{n})s, 1))" for n in range(skill_count)
        )
        has += f" AND p.skill_codes @> ARRAY[{codes}]"
    point = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography"
    return f"""
    SELECT p.technician_id, p.lat, p.lon, p.source,
           CASE WHEN p.source = 'fix' THEN p.fixed_at END, p.geog <-> {point}, p.facts,
           (SELECT count(*) FROM work_orders w
            WHERE w.tenant_id = %(tenant)s AND w.assignee_id = p.technician_id
              AND w.status IN ({in_list(open_statuses)}))
    FROM technician_places p
    WHERE p.tenant_id = %(tenant)s AND p.fresh @> %(fresh)s::timestamptz AND p.active{has}
    ORDER BY p.geog <-> {point} LIMIT %(k)s
    """  # noqa: S608 (constants and placeholders only)
