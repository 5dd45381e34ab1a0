"""``/v1/work-orders/{id}/photos|parts|readings|time-entries``: an order's evidence, a
photo's bytes, and (for the office) whether an item is shown to the customer. Evidence
itself is added by devices through sync."""

from __future__ import annotations

import uuid
from typing import Any

from flask import send_file
from flask.views import MethodView

from api.auth.permissions import Permission
from api.evidence import photo_reads, photo_routes, photos, queries, services
from api.evidence.models import PartUsed, Photo, Reading, TimeEntry
from api.evidence.photos import inert_image_headers
from api.evidence.schemas import (
    PartSchema,
    PhotoSchema,
    ReadingSchema,
    TimeEntrySchema,
    VisibilitySchema,
)
from api.http.blueprint import Blueprint
from api.http.context import blob_store, new_uow, read_uow
from api.http.guard import current_actor, requires
from api.http.pagination import PageArgs, page_schema

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
        """The order's photos with their renditions (`derivatives`: upright WebP without
        EXIF, smallest first), placeholder and, for staff, EXIF position and `original`;
        each with a short-lived `url`. Customer contacts see only photos shown to them."""
        with read_uow() as uow:
            return photo_reads.list_order_photos(
                uow.session, current_actor(), photo_routes.linker(), work_order_id, **args
            )


@blp.route("/work-orders/<uuid:work_order_id>/photos/<uuid:photo_id>/content")
class WorkOrderPhotoContent(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.response(
        200,
        description="The photo's bytes, with its `Content-Type`",
        content_type="application/octet-stream",
    )
    @blp.problem(409, "`photo.bytes_not_ready`: not uploaded yet (`state`)")
    def get(self, work_order_id: uuid.UUID, photo_id: uuid.UUID) -> Any:
        """A photo's original bytes, for staff (404 `photo.not_found` for a photo you may not
        see; customer contacts fetch renditions through the links in the list). They never
        change (they are named by their SHA-256, also the `ETag`), so clients may cache them.
        `Content-Type` is the image type the bytes were validated as on upload; with
        `X-Content-Type-Options: nosniff`, `Content-Security-Policy: default-src 'none';
        sandbox` and `Content-Disposition: inline; filename=...`, a browser shows them as
        an image and never runs them as a page."""
        store = blob_store()
        found = photos.open_photo(read_uow(), store, current_actor(), work_order_id, photo_id)
        response = send_file(found.stream, mimetype=found.content_type, etag=found.sha256)
        response.content_length = found.size
        response.cache_control.private = True
        response.cache_control.max_age = 31536000
        response.cache_control.immutable = True
        response.headers.update(inert_image_headers(found.content_type, f"photo-{photo_id}"))
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


def _visibility_view(segment: str, model: Any, schema: type[Any]) -> None:
    """``PUT /v1/work-orders/{id}/<segment>/{item_id}/visibility``, one view per kind."""

    class Visibility(MethodView):
        @requires(Permission.WORK_ORDERS_UPDATE)
        @blp.arguments(VisibilitySchema)
        @blp.response(200, schema)
        def put(self, data: dict[str, Any], work_order_id: uuid.UUID, item_id: uuid.UUID) -> Any:
            """Show the item to the customer's contacts (`customer`) or not (`internal`).
            Audited. The value is the office's alone (devices never write it), so it is
            replaced whole without `If-Match`."""
            return services.set_visibility(
                new_uow(), current_actor(), work_order_id, model, item_id, data["visibility"]
            )

    name = segment.replace("-", "_")
    Visibility.__name__ = f"WorkOrder{name.title().replace('_', '')}Visibility"
    blp.route(
        f"/work-orders/<uuid:work_order_id>/{segment}/<uuid:item_id>/visibility",
        endpoint=f"{name}_visibility",
    )(Visibility)


for _segment, _model, _schema in (
    ("photos", Photo, PhotoSchema),
    ("parts", PartUsed, PartSchema),
    ("readings", Reading, ReadingSchema),
    ("time-entries", TimeEntry, TimeEntrySchema),
):
    _visibility_view(_segment, _model, _schema)
