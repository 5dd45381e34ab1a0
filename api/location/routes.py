"""``/v1/positions``, ``/v1/sync/positions`` and technicians' trails: thin views."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from flask import Response
from flask.views import MethodView

from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.context import new_uow, read_uow
from api.http.guard import current_actor, requires
from api.location import arrivals, errors, services
from api.location.schemas import (
    CurrentLocationSchema,
    PositionBatchSchema,
    RecordedSchema,
    SyncPositionBatchSchema,
    TrailArgs,
    VisitSchema,
    read_fixes,
)
from api.sync.errors import from_protocol
from dispatch import trail as trails
from sync_protocol.errors import ProtocolError

blp = Blueprint(
    "location", __name__, url_prefix="/v1", description="GPS positions and technicians' trails"
)


def _recorded(outcome: services.Recorded) -> dict[str, Any]:
    admission = outcome.admission
    return {
        "accepted": len(admission.kept),
        "duplicates": len(admission.duplicates),
        "rejected": admission.rejected,
        "current": outcome.current,
    }


@blp.route("/sync/positions")
class SyncPositions(MethodView):
    @requires(Permission.SYNC)
    @blp.arguments(SyncPositionBatchSchema)
    @blp.response(200, RecordedSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Send a batch of a device's GPS fixes (PROTOCOL.md § 10.1).

        Fixes may come late, out of order and more than once: each is kept once
        per (device, fix time). Each refused fix is listed in `rejected` with its
        reason; the others are kept. The current position only moves forward in
        fix time."""
        fixes, indexes, invalid = read_fixes(data["fixes"])
        try:
            outcome = services.record_positions(
                new_uow(), current_actor(), data["device_id"], fixes, indexes, invalid
            )
        except ProtocolError as error:
            raise from_protocol(error) from None
        return _recorded(outcome)


@blp.route("/positions")
class Positions(MethodView):
    @requires(Permission.SYNC)
    @blp.arguments(PositionBatchSchema)
    @blp.response(200, RecordedSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Send a batch of the caller's GPS fixes without the sync protocol.

        The same rules as `POST /v1/sync/positions`; the fixes count as the
        login's device."""
        fixes, indexes, invalid = read_fixes(data["fixes"])
        outcome = services.record_positions(
            new_uow(), current_actor(), None, fixes, indexes, invalid
        )
        return _recorded(outcome)


@blp.route("/technicians/<uuid:technician_id>/location")
class TechnicianLocation(MethodView):
    @requires(Permission.TECHNICIANS_READ)
    @blp.response(200, CurrentLocationSchema)
    def get(self, technician_id: uuid.UUID) -> Any:
        """Where the technician is: their newest kept fix (404 if none yet)."""
        with read_uow() as uow:
            location = services.current_location(uow.session, current_actor(), technician_id)
            if location is None:
                raise errors.NoPositionYet()
            return location


@blp.route("/work-orders/<uuid:work_order_id>/visit")
class WorkOrderVisit(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.response(200, VisitSchema)
    def get(self, work_order_id: uuid.UUID) -> Any:
        """When the technician's fixes showed them arrive at the site and leave it
        (404 until an arrival is detected). `arrival` says whether the order was moved
        on site (`recorded`, tenant setting `auto`) or the technician asked (`suggested`)."""
        with read_uow() as uow:
            visit = arrivals.visit_of(uow.session, current_actor(), work_order_id)
            if visit is None:
                raise errors.NoVisitYet()
            return visit


@blp.route("/work-orders/<uuid:work_order_id>/technician-position")
class AssigneePosition(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.response(200, CurrentLocationSchema)
    @blp.problem(409, "`location.not_en_route`: shown only while the technician is on the way")
    def get(self, work_order_id: uuid.UUID) -> Any:
        """The assigned technician's latest position, while they are on the way to
        this order (customers included): 409 before they set off and after they
        arrive, 404 while no fix has come since they set off."""
        with read_uow() as uow:
            return services.assignee_position(uow.session, current_actor(), work_order_id)


@blp.route("/technicians/<uuid:technician_id>/trail")
class TechnicianTrail(MethodView):
    @requires(Permission.TECHNICIANS_READ)
    @blp.arguments(TrailArgs, location="query")
    @blp.response(
        200,
        description="GeoJSON (RFC 7946) FeatureCollection: the simplified line and one "
        "Point per stop; or GPX 1.1 with `format=gpx`",
        content_type="application/geo+json",
    )
    def get(self, args: dict[str, Any], technician_id: uuid.UUID) -> Any:
        """The technician's trail between `from` and `to` (default: the last day):
        simplified (`tolerance_m`), with the geodesic distance travelled and the stops."""
        with read_uow() as uow:
            fixes = services.trail(
                uow.session, current_actor(), technician_id, args["start"], args["end"]
            )
        trail = trails.build(fixes, args["tolerance_m"])
        if args["format"] == "gpx":
            return Response(
                trails.to_gpx(trail, f"technician {technician_id}"),
                mimetype="application/gpx+xml",
                headers={
                    "Content-Disposition": f'attachment; filename="trail-{technician_id}.gpx"'
                },
            )
        body = trails.to_geojson(trail, {"technician_id": str(technician_id)})
        return Response(orjson.dumps(body), mimetype="application/geo+json")
