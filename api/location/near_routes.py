"""``/v1/technicians/{id}/fixes`` and ``/v1/work-orders/{id}/presence``: where a
technician's kept fixes put them, near a point or at a job's site. Thin views."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.context import read_uow
from api.http.guard import current_actor, requires
from api.http.pagination import page_schema
from api.location import nearby, presence
from api.location.near_schemas import FixesNearArgs, PresenceArgs, PresenceSchema
from api.location.schemas import SightingSchema

blp = Blueprint(
    "location_near",
    __name__,
    url_prefix="/v1",
    description="Was the technician there? Their kept fixes near a point, and at a job's site",
)


@blp.route("/technicians/<uuid:technician_id>/fixes")
class TechnicianFixesNear(MethodView):
    @requires(Permission.TECHNICIANS_READ)
    @blp.arguments(FixesNearArgs, location="query")
    @blp.response(200, page_schema(SightingSchema))
    def get(self, args: dict[str, Any], technician_id: uuid.UUID) -> Any:
        """The technician's kept fixes within `radius` metres of `near` between `from`
        and `to` (default: the last day; at most 7 days), oldest first (then by device),
        each with its geodesic distance to the point. The office reads any technician of
        its tenant, a technician their own; anyone else's is 404."""
        with read_uow() as uow:
            return nearby.fixes_near_page(
                uow.session,
                current_actor(),
                technician_id,
                args["query"],
                limit=args["limit"],
                cursor=args["cursor"],
            )


@blp.route("/work-orders/<uuid:work_order_id>/presence")
class WorkOrderPresence(MethodView):
    @requires(Permission.TECHNICIANS_READ)
    @blp.arguments(PresenceArgs, location="query")
    @blp.response(200, PresenceSchema)
    @blp.problem(409, "`location.job_not_started`: nobody set off yet; `location.site_not_placed`")
    def get(self, args: dict[str, Any], work_order_id: uuid.UUID) -> Any:
        """Was the assignee at the order's site during the job, and for how long? Their
        fixes within `radius` (default: the tenant's geofence radius, each fix's accuracy
        forgiven up to the radius again, as for arrivals) from the job's first step under
        way to its completion (or now): stays, first and last fix inside, time there.
        For checking a disputed arrival time."""
        with read_uow() as uow:
            return presence.work_order_presence(
                uow.session, current_actor(), work_order_id, args["radius"]
            )
