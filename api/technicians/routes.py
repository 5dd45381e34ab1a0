"""``/v1/technicians``: thin views over the technician services."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.context import new_uow, read_uow
from api.http.etag import etag_header, if_match
from api.http.guard import current_actor, requires
from api.http.idempotency import idempotent
from api.http.pagination import page_schema
from api.technicians import queries, services
from api.technicians.schemas import (
    TechnicianCreateSchema,
    TechnicianListArgs,
    TechnicianSchema,
    TechnicianUpdateSchema,
)

blp = Blueprint(
    "technicians", __name__, url_prefix="/v1", description="Technicians, their skills and hours"
)


@blp.route("/technicians")
class Technicians(MethodView):
    @requires(Permission.TECHNICIANS_READ)
    @blp.arguments(TechnicianListArgs, location="query")
    @blp.response(200, page_schema(TechnicianSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """List technicians, oldest first, by activity, team, skills or a search.

        `skill=hvac:3,electrical` keeps technicians with HVAC at level 3 or more
        *and* any electrical level. Technicians see themselves and their teammates."""
        with read_uow() as uow:
            return queries.list_technicians(uow.session, current_actor(), **args)

    @requires(Permission.TECHNICIANS_WRITE)
    @idempotent
    @blp.arguments(TechnicianCreateSchema)
    @blp.response(201, TechnicianSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a technician. Link a login afterwards with `POST /v1/users`."""
        technician = services.create_technician(new_uow(), current_actor(), data)
        return technician, etag_header(technician.version)


@blp.route("/technicians/<uuid:technician_id>")
class TechnicianById(MethodView):
    @requires(Permission.TECHNICIANS_READ)
    @blp.response(200, TechnicianSchema)
    def get(self, technician_id: uuid.UUID) -> Any:
        """Read a technician."""
        with read_uow() as uow:
            technician = queries.access_technician(uow.session, current_actor(), technician_id)
        return technician, etag_header(technician.version)

    @requires(Permission.TECHNICIANS_WRITE)
    @if_match
    @blp.arguments(TechnicianUpdateSchema)
    @blp.response(200, TechnicianSchema)
    def patch(self, changes: dict[str, Any], technician_id: uuid.UUID, version: int) -> Any:
        """Change some fields of a technician; `skills` replaces the whole set.

        There is no delete: send `active: false`, which keeps their history. Needs `If-Match`."""
        technician = services.update_technician(
            new_uow(), current_actor(), technician_id, version, changes
        )
        return technician, etag_header(technician.version)
