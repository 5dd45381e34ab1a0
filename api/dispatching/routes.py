"""``/v1/work-orders/{id}/candidates``: thin view."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.auth.permissions import Permission
from api.db import utcnow
from api.dispatching import services
from api.dispatching.schemas import CandidateArgs, CandidatesSchema
from api.http.blueprint import Blueprint
from api.http.context import read_uow
from api.http.guard import current_actor, requires
from api.tracking.routes import app_router

blp = Blueprint(
    "dispatching", __name__, url_prefix="/v1", description="Choosing technicians for work orders"
)


@blp.route("/work-orders/<uuid:work_order_id>/candidates")
class WorkOrderCandidates(MethodView):
    @requires(Permission.WORK_ORDERS_UPDATE)
    @blp.arguments(CandidateArgs, location="query")
    @blp.response(200, CandidatesSchema)
    @blp.problem(409, "`dispatch.site_not_placed`: the site has no coordinates")
    def get(self, args: dict[str, Any], work_order_id: uuid.UUID) -> Any:
        """Who could take the order, best first, each with the parts of their score;
        and the nearby technicians a hard filter excluded, with that filter.

        Looks at the `shortlist` technicians nearest to the site (a fix newer than
        `fresh_minutes`, else home base), then filters (active, skill and level,
        certification, on shift at `at` or long enough for the job in the order's requested
        window, under `capacity`) and scores (travel time,
        workload, SLA, customer tier, continuity on the order's assets). Travel time is
        the straight line at the speed `profile`; with a routing engine configured
        (`FIELDLINE_ROUTING_URL`), the qualified candidates' times by road, asked in one
        request (`travel_source`: `osrm`), each falling back to the straight line."""
        with read_uow() as uow:
            order, ranking = services.work_order_candidates(
                uow.session,
                current_actor(),
                work_order_id,
                services.Options(**args),
                utcnow(),
                app_router(),
            )
        return {
            "work_order_id": order.id,
            "candidates": [
                {
                    "technician_id": c.technician.id,
                    "name": c.technician.name,
                    "score": c.score,
                    "parts": c.parts,
                    "distance_m": round(c.distance_m, 1),
                    "travel_minutes": round(c.travel_minutes, 1),
                    "travel_source": c.travel_source,
                    "position": c.technician.position_source,
                    "open_orders": c.technician.open_orders,
                }
                for c in ranking.candidates
            ],
            "excluded": [
                {
                    "technician_id": e.technician.id,
                    "name": e.technician.name,
                    "filter": e.filter,
                    "detail": e.detail,
                }
                for e in ranking.excluded
            ],
        }
