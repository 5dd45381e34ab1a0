"""``/v1/work-orders``: thin views over the work order queries and use cases."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.context import new_uow, read_connection, read_uow
from api.http.etag import etag_header, if_match
from api.http.guard import current_actor, requires
from api.http.idempotency import idempotent
from api.http.pagination import PageArgs, page_schema
from api.location import history
from api.workorders import notes, queries, services, transitions
from api.workorders.schemas import (
    HistoryStepSchema,
    NoteCreateSchema,
    NoteSchema,
    TransitionSchema,
    WorkOrderCreateSchema,
    WorkOrderListArgs,
    WorkOrderSchema,
    WorkOrderUpdateSchema,
)

blp = Blueprint(
    "work_orders",
    __name__,
    url_prefix="/v1",
    description="Work orders: creation, status transitions, history and notes",
)


@blp.route("/work-orders")
class WorkOrders(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.arguments(WorkOrderListArgs, location="query")
    @blp.response(200, page_schema(WorkOrderSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """List work orders, newest first. Technicians see their assignments, customer
        contacts their customer's orders. `updated_since` is inclusive."""
        with read_uow() as uow:
            return queries.list_work_orders(uow.session, current_actor(), **args)

    @requires(Permission.WORK_ORDERS_CREATE)
    @idempotent
    @blp.arguments(WorkOrderCreateSchema)
    @blp.response(201, WorkOrderSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a work order (status `new`) at one of the customer's sites.
        Customer contacts create for their own customer and cannot set the schedule or
        the priority (422 `not_allowed`): the dispatcher triages."""
        order = services.create_work_order(new_uow(), current_actor(), data)
        return order, etag_header(order.version)


@blp.route("/work-orders/<uuid:work_order_id>")
class WorkOrderById(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.response(200, WorkOrderSchema)
    def get(self, work_order_id: uuid.UUID) -> Any:
        """Read a work order, with the actions the caller may take next."""
        order = queries.read_work_order(read_connection(), current_actor(), work_order_id)
        return order, etag_header(order.version)

    @requires(Permission.WORK_ORDERS_UPDATE)
    @if_match
    @blp.arguments(WorkOrderUpdateSchema)
    @blp.response(200, WorkOrderSchema)
    def patch(self, changes: dict[str, Any], work_order_id: uuid.UUID, version: int) -> Any:
        """Change some fields of a work order. Status and assignee change only through
        transitions. Needs `If-Match`."""
        order = services.update_work_order(
            new_uow(), current_actor(), work_order_id, version, changes
        )
        return order, etag_header(order.version)


@blp.route("/work-orders/<uuid:work_order_id>/transitions")
class WorkOrderTransitions(MethodView):
    @requires(Permission.WORK_ORDERS_TRANSITION)
    @if_match(required=False)
    @idempotent
    @blp.arguments(TransitionSchema)
    @blp.response(200, WorkOrderSchema)
    def post(self, command: dict[str, Any], work_order_id: uuid.UUID, version: int | None) -> Any:
        """Move the order to its next status. 409 `work_order.illegal_transition` (with
        `current_status` and `allowed_actions`) if the status does not allow the action,
        403 `work_order.transition_forbidden` if your role may not take it. `If-Match` is
        optional: send it to refuse the change if the order moved on since you read it.
        Send `Idempotency-Key` so a retry after a lost response is not applied twice."""
        order = transitions.transition_work_order(
            new_uow(), current_actor(), work_order_id, command, version
        )
        return order, etag_header(order.version)


@blp.route("/work-orders/<uuid:work_order_id>/history")
class WorkOrderHistory(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(HistoryStepSchema))
    def get(self, args: dict[str, Any], work_order_id: uuid.UUID) -> Any:
        """The order's status changes, oldest first, starting with its creation; the
        `arrive` step of the order's geofenced visit carries its evidence, as `/visit`."""
        with read_uow() as uow:
            return history.history_with_evidence(
                uow.session, current_actor(), work_order_id, **args
            )


@blp.route("/work-orders/<uuid:work_order_id>/notes")
class WorkOrderNotes(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(NoteSchema))
    def get(self, args: dict[str, Any], work_order_id: uuid.UUID) -> Any:
        """The order's notes, oldest first. Customer contacts see customer notes only,
        and not those voided (staff see `voided_at` and `void_reason`)."""
        with read_uow() as uow:
            return queries.list_notes(uow.session, current_actor(), work_order_id, **args)

    @requires(Permission.WORK_ORDERS_NOTE)
    @idempotent
    @blp.arguments(NoteCreateSchema)
    @blp.response(201, NoteSchema)
    def post(self, data: dict[str, Any], work_order_id: uuid.UUID) -> Any:
        """Add a note. Notes are append-only (never edited), so they carry no ETag."""
        return notes.add_note(new_uow(), current_actor(), work_order_id, data)
