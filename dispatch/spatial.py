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

:meth:`SpatialIndex.shortlist` gives the same technicians with the facts dispatch's
rules read (skills from the row's ``skill_levels``, open orders counted): one
statement on PostgreSQL, the box loop and one query for the facts on SQLite.

:meth:`SpatialIndex.qualified` gives the nearest *active technicians holding the
skills*, facts included, run on the database driver: the path of
:func:`api.dispatching.services.nearest_qualified`. It reads ``technician_places``
(migration 0041), where each technician has a home row and a fix row, each carrying
the fix's time, so one search over one index finds effective positions: on
PostgreSQL one KNN scan whose GiST index holds the tenant and the freshness range
each row counts for (a fix up to its time, a home base after it), so a stale fix is
skipped and its home row found without a sweep; on SQLite one R*Tree box per try with
that range as a third dimension, then the facts of the nearest in one more statement.

``nearest`` and ``shortlist`` read the structures of migration 0025 (a KNN over the
fixes and one over the home bases, merged). The database keeps all of them in step.
The antimeridian is not handled (a box is clipped at ±180°), which is fine for the
fleets Fieldline serves.
"""

from __future__ import annotations

import functools
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from psycopg.types.json import set_json_loads
from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    DateTime,
    Float,
    Integer,
    String,
    Uuid,
    bindparam,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

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


@dataclass(frozen=True)
class Placed:
    """A technician of the short list with the facts dispatch's rules read, from the
    same query as their position (:meth:`SpatialIndex.shortlist`)."""

    located: Located
    name: str
    active: bool
    certifications: Sequence[Mapping[str, Any]]
    working_hours: Mapping[str, Any]
    timezone: str
    skills: Mapping[str, int]
    open_orders: int  # their orders in one of the ``open_statuses``


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
        """:meth:`nearest`, each with their facts (name, active, certifications,
        working hours, time zone, skills from the row's ``skill_levels``, and how many
        orders in ``open_statuses`` they hold), in one query."""
        ...

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
        """The ``limit`` nearest technicians who are active and hold every skill of
        ``skills`` at its level (the row's ``skill_levels``), with their facts, as
        :meth:`shortlist` gives them: the index filters, so a rare skill costs no
        widening. Run on the database driver (plain rows, SQL text written once per
        number of skills): SQLAlchemy's per-statement work cost more than the query."""
        ...


def index_for(dialect_name: str) -> SpatialIndex:
    return PostgisIndex() if dialect_name == "postgresql" else RTreeIndex()


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


_JSON = JSON().with_variant(JSONB(), "postgresql")
_FACTS_SQL = """
    SELECT n.technician_id, n.lat, n.lon, n.source, n.fixed_at, DISTANCE AS d,
           tf.name, tf.active, tf.certifications, tf.working_hours, tf.timezone,
           tf.skill_levels,
           (SELECT count(*) FROM work_orders w
            WHERE w.tenant_id = :tenant AND w.assignee_id = n.technician_id
              AND w.status IN :open) AS open_orders
    FROM (NEAREST) AS n
    JOIN technicians tf ON tf.id = n.technician_id AND tf.tenant_id = :tenant
"""
_FACT_COLUMNS: dict[str, Any] = {
    "technician_id": Uuid(),
    "lat": Float(),
    "lon": Float(),
    "source": String(),
    "d": Float(),
    "name": String(),
    "active": Boolean(),
    "certifications": _JSON,
    "working_hours": _JSON,
    "timezone": String(),
    "skill_levels": _JSON,
    "open_orders": Integer(),
}


def _facts(sql: str, fixed_at: Any, distance: str) -> Any:
    return (
        text(_FACTS_SQL.replace("NEAREST", sql).replace("DISTANCE", distance))
        .bindparams(
            bindparam("tenant", type_=Uuid()),
            bindparam("fresh", type_=fixed_at),
            bindparam("skill", type_=String()),
            bindparam("open", expanding=True),
        )
        .columns(fixed_at=fixed_at, **_FACT_COLUMNS)
    )


_PG_SHORTLIST = _facts(_PG_NEAREST_SQL, DateTime(timezone=True), "n.d")


def _placed(row: Any, located: Located) -> Placed:
    return Placed(
        located,
        row.name,
        row.active,
        row.certifications or [],
        row.working_hours or {},
        row.timezone,
        {str(k): int(v) for k, v in (row.skill_levels or {}).items()},
        row.open_orders,
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
            | _skill_params(None)
            | {"open": list(open_statuses)},
        )
        placed = [
            _placed(
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
        sql = _pg_qualified_sql(len(needs), tuple(open_statuses))
        params: dict[str, Any] = {
            "tenant": tenant_id, "lat": lat, "lon": lon, "fresh": fresh_since, "k": limit,
        }  # fmt: skip
        for n, (skill, level) in enumerate(needs):
            params[f"s{n}"], params[f"l{n}"] = skill, level
        placed = []
        for row in _driver_rows(connection, sql, params):
            tech_id, t_lat, t_lon, source, fixed_at, d = row[:6]
            skills = {str(k): int(v) for k, v in (row[11] or {}).items()}
            located = Located(tech_id, t_lat, t_lon, source, fixed_at, d)
            facts = (row[6], row[7], row[8] or [], row[9] or {}, row[10], skills, row[12])
            placed.append(Placed(located, *facts))
        return placed


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
    .columns(**_FACT_COLUMNS)
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
        return [_placed(facts[n.technician_id], n) for n in near if n.technician_id in facts]

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
            south, north, west, east = _box(lat, lon, radius)
            params |= {"south": south, "north": north, "west": west, "east": east}
            rows = _driver_rows(connection, sql, params)
            near = sorted(((metres(lat, lon, r[1], r[2]), r) for r in rows), key=_first)
            if whole_earth or (len(near) >= limit and near[limit - 1][0] <= radius):
                if len(near) >= limit:
                    _remember_radius(hint, near[limit - 1][0])
                return _rtree_facts(connection, tenant_id, near[:limit], tuple(open_statuses))
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
    connection: Connection,
    tenant_id: uuid.UUID,
    near: Sequence[tuple[float, Any]],
    open_statuses: tuple[str, ...],
) -> list[Placed]:
    """The facts of the nearest found, in one more query: reading them for every row of
    every box (JSON text, the open orders counted) cost several times the box itself,
    and in-process SQLite makes the second statement cheap."""
    if not near:
        return []
    params = {"tenant": tenant_id.hex} | {f"t{n}": row[0] for n, (_, row) in enumerate(near)}
    facts = {
        row[0]: row
        for row in _driver_rows(connection, _rtree_facts_sql(len(near), open_statuses), params)
    }
    return [
        _placed_row(row + facts[row[0]][1:], approx_m) for approx_m, row in near if row[0] in facts
    ]


_QUALIFIED_CURSOR = "fieldline_dispatch_cursor"  # key in the pool entry's info


def _driver_rows(connection: Connection, sql: str, params: Mapping[str, Any]) -> list[Any]:
    """Rows of ``sql`` run on the driver's own cursor, inside the connection's transaction.

    One cursor per database connection, kept with it (the pool entry's ``info`` lives
    as long as the driver connection): making a psycopg cursor costs a fifth of a
    round trip's client CPU."""
    pooled = connection.connection
    cursor = pooled.info.get(_QUALIFIED_CURSOR)
    if cursor is None:
        cursor = pooled.info[_QUALIFIED_CURSOR] = pooled.driver_connection.cursor()  # type: ignore[union-attr]
        if hasattr(cursor, "adapters"):  # psycopg: JSON columns decoded by orjson
            set_json_loads(orjson.loads, cursor)
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    except Exception:
        # Again through SQLAlchemy, which gives a driver error its usual handling (a
        # lost server invalidates the pool, the API answers 503): a read is safe to
        # repeat, and a failure repeats as the same error.
        pooled.info.pop(_QUALIFIED_CURSOR, None)
        return list(connection.exec_driver_sql(sql, dict(params)).all())


def _in_list(statuses: Sequence[str]) -> str:
    """The open statuses as SQL literals: this module's own constants, never user input."""
    for status in statuses:
        if not status.replace("_", "").isalnum():
            raise ValueError(f"not a status: {status!r}")
    return ", ".join(f"'{status}'" for status in statuses)


@functools.lru_cache(maxsize=64)
def _pg_qualified_sql(skill_count: int, open_statuses: tuple[str, ...]) -> str:
    """One KNN scan of ``technician_places`` (migration 0041): its GiST index holds the
    tenant and the freshness range each row counts for, so the scan reads only rows
    of this tenant that place their technician under this freshness limit."""
    has = "".join(
        f" AND (p.skill_levels ->> %(s{n})s)::int >= %(l{n})s" for n in range(skill_count)
    )
    point = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography"
    return f"""
    SELECT n.technician_id, n.lat, n.lon, n.source, n.fixed_at, n.d,
           tf.name, tf.active, tf.certifications, tf.working_hours, tf.timezone,
           tf.skill_levels,
           (SELECT count(*) FROM work_orders w
            WHERE w.tenant_id = %(tenant)s AND w.assignee_id = n.technician_id
              AND w.status IN ({_in_list(open_statuses)})) AS open_orders
    FROM (
      SELECT p.technician_id, p.lat, p.lon, p.source,
             CASE WHEN p.source = 'fix' THEN p.fixed_at END AS fixed_at,
             p.geog <-> {point} AS d
      FROM technician_places p
      WHERE p.tenant_id = %(tenant)s AND p.fresh @> %(fresh)s::timestamptz AND p.active{has}
      ORDER BY p.geog <-> {point} LIMIT %(k)s
    ) AS n
    JOIN technicians tf ON tf.id = n.technician_id
    ORDER BY n.d
    """  # noqa: S608 (constants and placeholders only)


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
    SELECT p.technician_id, p.lat, p.lon, p.source, CASE WHEN p.source = 'fix' THEN p.fixed_at END
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
    ids = ", ".join(f":t{n}" for n in range(count))
    return f"""
    SELECT t.id, t.name, t.active, t.certifications, t.working_hours, t.timezone, t.skill_levels,
           (SELECT count(*) FROM work_orders w
            WHERE w.tenant_id = :tenant AND w.assignee_id = t.id
              AND w.status IN ({_in_list(open_statuses)}))
    FROM technicians t WHERE t.id IN ({ids}) AND t.tenant_id = :tenant
    """  # noqa: S608 (constants and placeholders only)


def _growth(inside: int, limit: int) -> float:
    """How much to widen a box whose circle held ``inside`` of the ``limit`` wanted:
    to where, at the density seen so far, the circle should hold half again the
    limit (one more query, usually), never less than ×1.5 nor more than ×4. A box's
    cost grows with its area, so overshooting by doubling cost more than it saved."""
    return min(4.0, max(1.5, math.sqrt(1.5 * limit / max(inside, 1))))


def _first(pair: tuple[float, Any]) -> float:
    return pair[0]


def _placed_row(row: Any, approx_m: float) -> Placed:
    """A row of the SQLite qualified query, its values as SQLite's driver returns them."""
    fixed_at = None if row[4] is None else datetime.fromisoformat(row[4]).replace(tzinfo=UTC)
    return Placed(
        Located(uuid.UUID(hex=row[0]), row[1], row[2], row[3], fixed_at, approx_m),
        row[5], bool(row[6]), orjson.loads(row[7]) if row[7] else [],
        orjson.loads(row[8]) if row[8] else {}, row[9],
        {str(k): int(v) for k, v in orjson.loads(row[10] or "{}").items()}, row[11],
    )  # fmt: skip


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
