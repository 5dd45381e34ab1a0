"""A technician's kept fixes around one place in a time span (the engine is
:mod:`dispatch.fix_index`: PostGIS on PostgreSQL, R*Tree on SQLite)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.location.services import check_trail_access
from dispatch.fix_index import NearFix, fix_index_for


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
