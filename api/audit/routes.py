"""``/v1/audit-events``: who changed what, when (admins and dispatchers)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.audit.queries import list_events
from api.audit.schemas import AuditEventSchema, AuditListArgs
from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.context import read_uow
from api.http.guard import current_actor, requires
from api.http.pagination import page_schema

blp = Blueprint("audit", __name__, url_prefix="/v1", description="The audit log")


@blp.route("/audit-events")
class AuditEvents(MethodView):
    @requires(Permission.AUDIT_READ)
    @blp.arguments(AuditListArgs, location="query")
    @blp.response(200, page_schema(AuditEventSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """List audit events, newest first, by entity, actor or action."""
        with read_uow() as uow:
            return list_events(uow.session, current_actor(), **args)
