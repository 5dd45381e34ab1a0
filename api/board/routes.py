"""``/v1/board/...``: the dispatcher console's map and list (thin views)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask.views import MethodView

from api.auth.permissions import Permission
from api.board import queries
from api.board.schemas import (
    BoardOrderArgs,
    BoardOrderSchema,
    BoardTechnicianArgs,
    BoardTechnicianSchema,
)
from api.db import utcnow
from api.evidence.photo_routes import linker
from api.http.blueprint import Blueprint
from api.http.context import read_connection, read_uow
from api.http.guard import current_actor, requires
from api.http.pagination import page_response, page_schema
from api.technicians import photos

blp = Blueprint(
    "board", __name__, url_prefix="/v1", description="The dispatch board: what the console draws"
)


@blp.route("/board/work-orders")
class BoardWorkOrders(MethodView):
    @requires(Permission.WORK_ORDERS_UPDATE)
    @blp.arguments(BoardOrderArgs, location="query")
    @blp.response(200, page_schema(BoardOrderSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Open orders, newest first, each with its site (to place it on the map),
        customer, leaf category, assignee and SLA state (to colour it). For the
        office: dispatchers, admins and integrations that may update orders."""
        limit, cursor = args.pop("limit"), args.pop("cursor")
        page = queries.open_orders(
            read_connection(),
            current_actor(),
            queries.OrderFilter.of(**args),
            limit=limit,
            cursor=cursor,
            now=utcnow(),
        )
        return page_response(page)


@blp.route("/board/technicians")
class BoardTechnicians(MethodView):
    @requires(Permission.WORK_ORDERS_UPDATE)
    @blp.arguments(BoardTechnicianArgs, location="query")
    @blp.response(200, page_schema(BoardTechnicianSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Active technicians, newest first, with their latest position, what they are
        doing, the job they are on and their portrait's link."""
        actor = current_actor()
        with read_uow() as uow:
            page = queries.technicians(uow.session, actor, **args)
            ids = [technician.id for technician in page.items]
            urls = photos.small_links(uow.session, linker(), actor.tenant_id, ids)
        items = [replace(t, photo_url=urls.get(t.id)) for t in page.items]
        return page_response(replace(page, items=items))
