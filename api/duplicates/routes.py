"""Duplicate suggestions, merges and links of work orders (thin views), and the settings."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.auth.permissions import Permission
from api.duplicates import merging, queries, services
from api.duplicates.schemas import (
    DuplicateSettingsSchema,
    LinkListSchema,
    MergeSchema,
    SuggestionListArgs,
    SuggestionSchema,
)
from api.http.blueprint import Blueprint
from api.http.context import new_uow, read_uow
from api.http.etag import etag_header, if_match
from api.http.guard import current_actor, requires
from api.http.idempotency import idempotent
from api.http.pagination import PageArgs, page_schema
from api.workorders.schemas import StatusChangeSchema, WorkOrderSchema

blp = Blueprint(
    "duplicates",
    __name__,
    url_prefix="/v1",
    description="Likely duplicate work orders: suggestions, dismissal, merge; links between orders",
)


@blp.route("/work-orders/<uuid:work_order_id>/duplicates")
class Duplicates(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.arguments(SuggestionListArgs, location="query")
    @blp.response(200, page_schema(SuggestionSchema))
    def get(self, args: dict[str, Any], work_order_id: uuid.UUID) -> Any:
        """Likely duplicates of this order (found when it or the other was created), newest
        first: same customer and site within the tenant's window, similar words (zh or en),
        an asset or category in common. Open ones unless `state` says otherwise."""
        with read_uow() as uow:
            return queries.list_suggestions(uow.session, current_actor(), work_order_id, **args)


@blp.route("/work-orders/<uuid:work_order_id>/duplicates/<uuid:suggestion_id>/dismissal")
class Dismissal(MethodView):
    @requires(Permission.WORK_ORDERS_UPDATE)
    @blp.response(200, SuggestionSchema)
    def post(self, work_order_id: uuid.UUID, suggestion_id: uuid.UUID) -> Any:
        """Not a duplicate: the pair is not offered again. Dismissing twice is harmless;
        a suggestion settled by a merge is 409 `duplicate.already_decided`."""
        return services.dismiss_suggestion(new_uow(), current_actor(), work_order_id, suggestion_id)


@blp.route("/work-orders/<uuid:work_order_id>/merge")
class Merge(MethodView):
    @requires(Permission.WORK_ORDERS_UPDATE)
    @if_match
    @idempotent
    @blp.arguments(MergeSchema)
    @blp.response(200, WorkOrderSchema)
    def post(self, data: dict[str, Any], work_order_id: uuid.UUID, version: int) -> Any:
        """Merge this order (the duplicate) into `into_work_order_id` (the primary): it is
        cancelled with reason `duplicate` through the status state machine and linked to the
        primary; its history, notes and evidence stay, shown from the primary's `timeline`
        and `links`. `If-Match` is this order's ETag. Merging again into the same primary
        answers the same; into another is 409 `duplicate.already_merged`."""
        order = merging.merge_work_order(
            new_uow(), current_actor(), work_order_id, data["into_work_order_id"], version
        )
        return order, etag_header(order.version)


@blp.route("/work-orders/<uuid:work_order_id>/timeline")
class Timeline(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(StatusChangeSchema))
    def get(self, args: dict[str, Any], work_order_id: uuid.UUID) -> Any:
        """The status history of this order and of every order merged into it, in the
        order the steps happened; each row's `work_order_id` says whose step it was."""
        with read_uow() as uow:
            return queries.timeline(uow.session, current_actor(), work_order_id, **args)


@blp.route("/work-orders/<uuid:work_order_id>/links")
class Links(MethodView):
    @requires(Permission.SERVICE_DESK_READ)
    @blp.response(200, LinkListSchema)
    def get(self, work_order_id: uuid.UUID) -> Any:
        """Orders linked to this one: `merged_into` (a duplicate and its primary) and
        `repeat_of` (a preventive maintenance order and the repeats that opened it)."""
        with read_uow() as uow:
            return {"items": queries.list_links(uow.session, current_actor(), work_order_id)}


@blp.route("/tenant/duplicate-settings")
class DuplicateSettings(MethodView):
    @requires(Permission.TENANT_MANAGE)
    @blp.response(200, DuplicateSettingsSchema)
    def get(self) -> Any:
        """When two orders are offered to the office as likely duplicates."""
        return services.duplicate_settings(read_uow(), current_actor())

    @requires(Permission.TENANT_MANAGE)
    @blp.arguments(DuplicateSettingsSchema)
    @blp.response(200, DuplicateSettingsSchema)
    def put(self, values: dict[str, Any]) -> Any:
        """Replace the duplicate settings (audited)."""
        return services.set_duplicate_settings(new_uow(), current_actor(), values)
