"""Was the technician at the job's site, and for how long? (``GET
/v1/work-orders/{id}/presence``), for the office when an arrival time is disputed.

The job's span runs from the first time the order was under way (set off, or
marked on site) to its completion or cancellation, or now while it is open. The
assignee's fixes near the site in that span come from :mod:`dispatch.fix_index`
(``ST_DWithin`` on PostgreSQL, R*Tree on SQLite); a fix counts as inside by the
geofence's own rule (its accuracy forgiven up to the radius again), so the answer
agrees with the arrival it is checking. :mod:`dispatch.presence` groups them into
stays and adds up the time there. At most :data:`MAX_FIXES` fixes are read, the
oldest first; past that the answer says it is ``truncated`` and up to when it counted.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.db import utcnow
from api.location import errors
from api.location.evidence import sighting_json
from api.location.services import check_trail_access
from api.sites.models import Site
from api.tenants.models import Tenant
from api.workorders import queries
from api.workorders.models import StatusChange, WorkOrder
from api.workorders.states import Status
from dispatch import geofence, presence
from dispatch.fix_index import fix_index_for

# A day of fixes every few seconds; a job's span longer than that is cut at this many,
# and the answer says so (``truncated``, ``counted_until``).
MAX_FIXES = 50_000
_STARTED = (Status.EN_ROUTE, Status.ON_SITE, Status.IN_PROGRESS)
_ENDED = (Status.COMPLETED, Status.CANCELLED)
_OVER = (Status.COMPLETED, Status.CLOSED, Status.CANCELLED)


def work_order_presence(
    session: Session, actor: Actor, work_order_id: uuid.UUID, radius_m: float | None
) -> dict[str, Any]:
    """The assignee's time within ``radius_m`` (default: the tenant's geofence radius)
    of the order's site during the job: stays, first and last fix inside, fixes inside."""
    order = queries.access_work_order(session, actor, work_order_id)
    start, end = _job_span(session, order)
    if order.assignee_id is None or start is None:
        raise errors.JobNotStarted()
    check_trail_access(session, actor, order.assignee_id)  # a technician: only their own jobs
    site = session.get(Site, order.site_id)
    if site is None or site.lat is None or site.lon is None:
        raise errors.SiteNotPlaced()
    if radius_m is None:
        tenant = session.get(Tenant, actor.tenant_id)
        assert tenant is not None
        radius_m = float(tenant.geofence_radius_m)
    connection = session.connection()
    # Twice the radius: the fence forgives a fix's accuracy up to the radius again.
    near = fix_index_for(connection.dialect.name).within(
        connection,
        actor.tenant_id,
        site.lat,
        site.lon,
        2 * radius_m,
        start,
        end,
        technician_id=order.assignee_id,
        limit=MAX_FIXES + 1,  # one more, to know whether any were left unread
    )
    truncated = len(near) > MAX_FIXES
    if truncated:
        near = near[:MAX_FIXES]
    inside = [
        geofence.Sighting(n.fix, n.distance_m)
        for n in near
        if geofence.inside(n.distance_m, n.fix.accuracy_m, radius_m)
    ]
    stays = presence.stays(inside)
    return {
        "work_order_id": order.id,
        "technician_id": order.assignee_id,
        "site": {"lat": site.lat, "lon": site.lon},
        "radius_m": radius_m,
        "start": start,
        "end": end,
        "truncated": truncated,
        # Fixes come oldest first: a cut answer counted the span up to its last fix read.
        "counted_until": near[-1].fix.fixed_at if truncated else end,
        "fixes_inside": len(inside),
        "seconds_inside": presence.seconds_there(stays),
        "first_inside": _wire(inside[0]) if inside else None,
        "last_inside": _wire(inside[-1]) if inside else None,
        "stays": [
            {
                "first": _wire(stay.first),
                "last": _wire(stay.last),
                "fixes": stay.fixes,
                "seconds": stay.seconds,
            }
            for stay in stays
        ],
    }


def _wire(sighting: geofence.Sighting) -> dict[str, Any]:
    return sighting_json(sighting.fix, sighting.distance_m)


def _job_span(session: Session, order: WorkOrder) -> tuple[datetime | None, datetime]:
    """From the first step under way to the job's end (now while it is open)."""

    def step(statuses: tuple[Status, ...], pick: Any) -> datetime | None:
        found: datetime | None = session.scalar(
            select(pick(StatusChange.occurred_at)).where(
                StatusChange.tenant_id == order.tenant_id,
                StatusChange.work_order_id == order.id,
                StatusChange.to_status.in_(statuses),
            )
        )
        return found

    start = step(_STARTED, func.min)
    ended = step(_ENDED, func.max) if order.status in _OVER else None
    return start, ended or utcnow()
