"""``/v1/work-orders/{id}/photos|parts|readings|time-entries``: an order's evidence, and a
photo's bytes. Read-only: evidence is added by devices through sync."""

from __future__ import annotations

import uuid
from typing import Any

from flask import send_file
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth.permissions import Permission
from api.evidence import photos, queries
from api.evidence.models import PartUsed, Photo, Reading, TimeEntry
from api.evidence.schemas import PartSchema, PhotoSchema, ReadingSchema, TimeEntrySchema
from api.http.context import read_uow, state
from api.http.guard import current_actor, requires
from api.http.pagination import PageArgs, page_schema
from media.blobs import FilesystemBlobStore

blp = Blueprint(
    "evidence",
    __name__,
    url_prefix="/v1",
    description=(
        "A work order's evidence: photos (with their bytes), parts, readings, time entries. "
        "Lists are oldest first, voided items included for staff. Customer contacts see "
        "only customer-visible items that were not voided (parts and readings by default; "
        "time entries and photos are internal by default)."
    ),
)


@blp.route("/work-orders/<uuid:work_order_id>/photos")
class WorkOrderPhotos(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(PhotoSchema))
    def get(self, args: dict[str, Any], work_order_id: uuid.UUID) -> Any:
        """The order's photos. Fetch a `ready` photo's bytes from its `content` URL."""
        with read_uow() as uow:
            return queries.list_evidence(uow.session, current_actor(), work_order_id, Photo, **args)


@blp.route("/work-orders/<uuid:work_order_id>/photos/<uuid:photo_id>/content")
class WorkOrderPhotoContent(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.response(
        200,
        description="The photo's bytes, with its `Content-Type`",
        content_type="application/octet-stream",
    )
    @blp.alt_response(409, description="`photo.bytes_not_ready`: not uploaded yet (`state`)")
    def get(self, work_order_id: uuid.UUID, photo_id: uuid.UUID) -> Any:
        """A photo's bytes (404 `photo.not_found` for a photo you may not see). They never
        change (they are named by their SHA-256, also the `ETag`), so clients may cache them."""
        store = FilesystemBlobStore(state().config.resolved_blob_dir())
        found = photos.open_photo(read_uow(), store, current_actor(), work_order_id, photo_id)
        response = send_file(found.stream, mimetype=found.content_type, etag=found.sha256)
        response.cache_control.private = True
        response.cache_control.max_age = 31536000
        response.cache_control.immutable = True
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


@blp.route("/work-orders/<uuid:work_order_id>/parts")
class WorkOrderParts(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(PartSchema))
    def get(self, args: dict[str, Any], work_order_id: uuid.UUID) -> Any:
        """The parts used on the order."""
        with read_uow() as uow:
            return queries.list_evidence(
                uow.session, current_actor(), work_order_id, PartUsed, **args
            )


@blp.route("/work-orders/<uuid:work_order_id>/readings")
class WorkOrderReadings(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(ReadingSchema))
    def get(self, args: dict[str, Any], work_order_id: uuid.UUID) -> Any:
        """The meter readings taken on the order."""
        with read_uow() as uow:
            return queries.list_evidence(
                uow.session, current_actor(), work_order_id, Reading, **args
            )


@blp.route("/work-orders/<uuid:work_order_id>/time-entries")
class WorkOrderTimeEntries(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(TimeEntrySchema))
    def get(self, args: dict[str, Any], work_order_id: uuid.UUID) -> Any:
        """The time recorded on the order (travel, work, …)."""
        with read_uow() as uow:
            return queries.list_evidence(
                uow.session, current_actor(), work_order_id, TimeEntry, **args
            )
