"""Kept GPS fixes searchable by place and time: one interface, two databases.

:meth:`FixIndex.within` answers "which fixes of this tenant (optionally of one
technician) lie within ``radius_m`` of a point between two times", in fix-time
order, each with its exact geodesic distance (WGS84) to the point. It is what
"was the technician at the site, and when" reads (a work order's presence, the
office's fixes-near query) and what a trail around one place shows. ``after``
(a fix time and device id) continues from a previous page: the order is
(fix time, device id), unique per technician's fixes.

- :class:`PostgisFixIndex`: ``ST_DWithin`` on the ``geog`` column of
  ``technician_positions`` (a GiST index, migration 0039); PostGIS measures on
  the spheroid.
- :class:`RTreeFixIndex`: SQLite's built-in R*Tree over (lat, lon, fix time),
  kept by triggers (migration 0039). The box around the circle and the time span,
  both padded, select candidates; the exact geodesic (geopy, Karney) and the
  stored fix time decide, so both databases give the same answer.

The antimeridian is not handled (a box is clipped at ±180°), as in
:mod:`dispatch.spatial`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from geopy.distance import geodesic
from sqlalchemy import Connection, DateTime, Float, String, Uuid, bindparam, text

from dispatch.fixes import Fix
from dispatch.spatial.rtree import box

DEFAULT_LIMIT = 10_000
# R*Tree keeps 32-bit floats (rounded outwards) and the trigger stores whole seconds:
# widen the time span so no fix at the edge is lost, then compare exact times.
_TIME_PAD_S = 2.0


@dataclass(frozen=True)
class NearFix:
    technician_id: uuid.UUID
    device_id: str
    fix: Fix
    distance_m: float  # geodesic, to the query point


class FixIndex(Protocol):
    def within(
        self,
        connection: Connection,
        tenant_id: uuid.UUID,
        lat: float,
        lon: float,
        radius_m: float,
        start: datetime,
        end: datetime,
        *,
        technician_id: uuid.UUID | None = None,
        limit: int = DEFAULT_LIMIT,
        after: tuple[datetime, str] | None = None,
    ) -> list[NearFix]:
        """The first ``limit`` fixes (by fix time, then device) within ``radius_m``
        metres of (lat, lon) with ``start <= fixed_at <= end``, past ``after``."""
        ...


def fix_index_for(dialect_name: str) -> FixIndex:
    return PostgisFixIndex() if dialect_name == "postgresql" else RTreeFixIndex()


_COLUMNS = (
    "p.technician_id, p.device_id, p.fixed_at, p.lat, p.lon, p.accuracy_m,"
    " p.speed_mps, p.heading_deg, p.altitude_m"
)
_TYPES: dict[str, Any] = {
    "technician_id": Uuid(),
    "device_id": String(),
    "lat": Float(),
    "lon": Float(),
}
_PG_POINT = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography"
_PG_SQL = """
    SELECT COLUMNS, ST_Distance(p.geog, POINT) AS d
    FROM technician_positions p
    WHERE p.tenant_id = :tenant AND p.fixed_at >= :start AND p.fixed_at <= :end
      AND ST_DWithin(p.geog, POINT, :radius) ONE AFTER
    ORDER BY p.fixed_at, p.device_id LIMIT :limit
""".replace("POINT", _PG_POINT)
_RTREE_SQL = """
    SELECT COLUMNS
    FROM technician_positions_rtree r JOIN technician_positions p ON p.rowid = r.id
    WHERE r.min_lat <= :north AND r.max_lat >= :south
      AND r.min_lon <= :east AND r.max_lon >= :west
      AND r.min_t <= :t1 AND r.max_t >= :t0
      AND p.tenant_id = :tenant ONE
"""


_AFTER = "AND (p.fixed_at > :after_t OR (p.fixed_at = :after_t AND p.device_id > :after_device))"


def _statement(sql: str, one: bool, after: bool, timestamp: Any) -> Any:
    clause = "AND p.technician_id = :technician" if one else ""
    params = [bindparam("tenant", type_=Uuid())]
    if ":start" in sql:
        params += [bindparam("start", type_=timestamp), bindparam("end", type_=timestamp)]
    if one:
        params.append(bindparam("technician", type_=Uuid()))
    if after:
        params.append(bindparam("after_t", type_=timestamp))
    sql = sql.replace("COLUMNS", _COLUMNS).replace("ONE", clause)
    statement = text(sql.replace("AFTER", _AFTER if after else "")).bindparams(*params)
    return statement.columns(fixed_at=timestamp, d=Float(), **_TYPES)


_PG = {
    (one, after): _statement(_PG_SQL, one, after, DateTime(timezone=True))
    for one in (False, True)
    for after in (False, True)
}
# SQLite: the R*Tree's time span starts at ``after``; the exact pair is checked in Python.
_RTREE = {one: _statement(_RTREE_SQL, one, False, DateTime()) for one in (False, True)}


def _near(row: Any, distance_m: float) -> NearFix:
    fixed_at = row.fixed_at
    fixed_at = fixed_at.replace(tzinfo=UTC) if fixed_at.tzinfo is None else fixed_at.astimezone(UTC)
    fix = Fix(
        fixed_at, row.lat, row.lon, row.accuracy_m, row.speed_mps, row.heading_deg, row.altitude_m
    )
    return NearFix(row.technician_id, row.device_id, fix, distance_m)


class PostgisFixIndex:
    def within(
        self,
        connection: Connection,
        tenant_id: uuid.UUID,
        lat: float,
        lon: float,
        radius_m: float,
        start: datetime,
        end: datetime,
        *,
        technician_id: uuid.UUID | None = None,
        limit: int = DEFAULT_LIMIT,
        after: tuple[datetime, str] | None = None,
    ) -> list[NearFix]:
        params: dict[str, Any] = {"tenant": tenant_id, "start": start, "end": end}
        params |= {"lat": lat, "lon": lon, "radius": radius_m, "limit": limit}
        if technician_id is not None:
            params["technician"] = technician_id
        if after is not None:
            params["after_t"], params["after_device"] = after
        rows = connection.execute(_PG[technician_id is not None, after is not None], params)
        return [_near(row, float(row.d)) for row in rows]


class RTreeFixIndex:
    def within(
        self,
        connection: Connection,
        tenant_id: uuid.UUID,
        lat: float,
        lon: float,
        radius_m: float,
        start: datetime,
        end: datetime,
        *,
        technician_id: uuid.UUID | None = None,
        limit: int = DEFAULT_LIMIT,
        after: tuple[datetime, str] | None = None,
    ) -> list[NearFix]:
        if after is not None:
            start = max(start, after[0])
        south, north, west, east = box(lat, lon, radius_m)
        params: dict[str, Any] = {"tenant": tenant_id, "south": south, "north": north}
        params |= {"west": west, "east": east}
        params |= {"t0": start.timestamp() - _TIME_PAD_S, "t1": end.timestamp() + _TIME_PAD_S}
        if technician_id is not None:
            params["technician"] = technician_id
        found = []
        for row in connection.execute(_RTREE[technician_id is not None], params):
            near = _near(row, geodesic((lat, lon), (row.lat, row.lon)).meters)
            inside = near.distance_m <= radius_m and start <= near.fix.fixed_at <= end
            if inside and (after is None or (near.fix.fixed_at, near.device_id) > after):
                found.append(near)
        found.sort(key=lambda near: (near.fix.fixed_at, near.device_id))
        return found[:limit]
