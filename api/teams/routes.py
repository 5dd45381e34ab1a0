"""``/v1/teams``: thin views over the team services."""

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
from api.http.pagination import PageArgs, page_schema
from api.teams import queries, services
from api.teams.schemas import TeamCreateSchema, TeamListArgs, TeamSchema, TeamUpdateSchema
from api.technicians.schemas import TechnicianSchema

blp = Blueprint("teams", __name__, url_prefix="/v1", description="Teams of technicians")


@blp.route("/teams")
class Teams(MethodView):
    @requires(Permission.TEAMS_READ)
    @blp.arguments(TeamListArgs, location="query")
    @blp.response(200, page_schema(TeamSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """List teams, oldest first. Technicians see only their own team."""
        with read_uow() as uow:
            return queries.list_teams(uow.session, current_actor(), **args)

    @requires(Permission.TEAMS_WRITE)
    @idempotent
    @blp.arguments(TeamCreateSchema)
    @blp.response(201, TeamSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a team. Names are unique within the tenant."""
        team = services.create_team(new_uow(), current_actor(), data)
        return team, etag_header(team.version)


@blp.route("/teams/<uuid:team_id>")
class TeamById(MethodView):
    @requires(Permission.TEAMS_READ)
    @blp.response(200, TeamSchema)
    def get(self, team_id: uuid.UUID) -> Any:
        """Read a team."""
        with read_uow() as uow:
            team = queries.access_team(uow.session, current_actor(), team_id)
        return team, etag_header(team.version)

    @requires(Permission.TEAMS_WRITE)
    @if_match
    @blp.arguments(TeamUpdateSchema)
    @blp.response(200, TeamSchema)
    def patch(self, changes: dict[str, Any], team_id: uuid.UUID, version: int) -> Any:
        """Change some fields of a team. Needs `If-Match`."""
        team = services.update_team(new_uow(), current_actor(), team_id, version, changes)
        return team, etag_header(team.version)

    @requires(Permission.TEAMS_WRITE)
    @if_match
    @blp.response(204)
    def delete(self, team_id: uuid.UUID, version: int) -> None:
        """Delete a team that has no technicians (active or not). Needs `If-Match`."""
        services.delete_team(new_uow(), current_actor(), team_id, version)


@blp.route("/teams/<uuid:team_id>/members")
class TeamMembers(MethodView):
    @requires(Permission.TECHNICIANS_READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(TechnicianSchema))
    def get(self, args: dict[str, Any], team_id: uuid.UUID) -> Any:
        """List a team's technicians (deactivated ones included), oldest first.

        Needs `technicians:read` because the items are technician records."""
        with read_uow() as uow:
            return queries.list_members(uow.session, current_actor(), team_id, **args)
