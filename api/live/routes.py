"""``/v1/live/tickets``: what a console page needs to open its event stream."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import request
from flask.views import MethodView

from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.context import state
from api.http.guard import current_actor, requires
from api.live import tickets
from api.live.schemas import TicketSchema
from api.live.urls import live_base

blp = Blueprint("live", __name__, url_prefix="/v1", description="Live updates (event streams)")


@blp.route("/live/tickets")
class LiveTickets(MethodView):
    @requires(Permission.LIVE_CONSOLE)
    @blp.response(201, TicketSchema)
    @blp.problem(403, "`live.console_forbidden`: not a dispatcher or admin signed in as a person")
    def post(self) -> Any:
        """A short-lived ticket for the console's event stream (`EventSource` cannot send
        an `Authorization` header). The stream checks the login session again on every
        connect, so ask for a fresh ticket before each reconnect; see docs/live.md."""
        fieldline = state()
        issued = tickets.issue(current_actor(), fieldline.auth_settings.secret_key)
        base = live_base(fieldline.config.live_url, request.scheme, request.host)
        return {
            "ticket": issued.ticket,
            "expires_at": issued.expires_at,
            "console_url": f"{base}/console?ticket={quote(issued.ticket)}",
        }
