"""A technician's kept fixes around one place in a time span (the engine is
:mod:`dispatch.fix_index`: PostGIS on PostgreSQL, R*Tree on SQLite).

:func:`fixes_near_page` is the office's question "was this technician near this
point, and when?", in keyset pages of (fix time, device), so fixes arriving late
while a client pages never shift a page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.errors.common import InvalidCursor
from api.http.pagination import Page, decode_cursor, encode_cursor
from api.location.evidence import sighting_json
from api.location.services import check_trail_access
from dispatch.fix_index import NearFix, fix_index_for

MAX_RADIUS_M = 5_000.0
MAX_WINDOW = timedelta(days=7)
DEFAULT_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class NearQuery:
    """Checked by the request schema: a real point, 0 < radius <= cap, a span up to the cap."""

    lat: float
    lon: float
    radius_m: float
    start: datetime
    end: datetime


def fixes_near(
    session: Session,
    actor: Actor,
    technician_id: uuid.UUID,
    lat: float,
    lon: float,
    radius_m: float,
    start: datetime,
    end: datetime,
) -> list[NearFix]:
    """The technician's fixes within ``radius_m`` of (lat, lon) in ``[start, end]``,
    in time order: when they were at a site, by their own trail."""
    check_trail_access(session, actor, technician_id)
    connection = session.connection()
    index = fix_index_for(connection.dialect.name)
    return index.within(
        connection, actor.tenant_id, lat, lon, radius_m, start, end, technician_id=technician_id
    )


def fixes_near_page(
    session: Session,
    actor: Actor,
    technician_id: uuid.UUID,
    query: NearQuery,
    *,
    limit: int,
    cursor: str | None,
) -> Page:
    """One page of :func:`fixes_near`, oldest first, each fix with its geodesic distance
    to the point (the office reads any technician of its tenant, a technician their own)."""
    check_trail_access(session, actor, technician_id)
    after = _after(cursor)
    connection = session.connection()
    found = fix_index_for(connection.dialect.name).within(
        connection,
        actor.tenant_id,
        query.lat,
        query.lon,
        query.radius_m,
        query.start,
        query.end,
        technician_id=technician_id,
        limit=limit + 1,
        after=after,
    )
    page = found[:limit]
    next_cursor = None
    if len(found) > limit:
        last = page[-1]
        next_cursor = encode_cursor([last.fix.fixed_at.isoformat(), last.device_id])
    return Page([sighting_json(near.fix, near.distance_m) for near in page], next_cursor)


def _after(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    at_text, device_id = decode_cursor(cursor, 2)
    try:
        at = datetime.fromisoformat(at_text)
    except ValueError as exc:
        raise InvalidCursor() from exc
    if at.tzinfo is None:
        raise InvalidCursor()
    return at, device_id
