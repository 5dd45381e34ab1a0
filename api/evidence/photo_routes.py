"""Photos for people: an asset's photos, a photo's annotations, and the bytes behind the
short-lived links that photo listings hand out (``/v1/media/{token}``)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from flask import send_file
from flask.views import MethodView

from api.auth.permissions import Permission
from api.evidence import photo_reads, services
from api.evidence.schemas import AnnotationsSchema, PhotoSchema
from api.http.blueprint import Blueprint
from api.http.context import blob_store, new_uow, read_uow, state
from api.http.guard import current_actor, public, requires
from api.http.pagination import PageArgs, page_schema
from media.links import LinkSigner, safe_filename

blp = Blueprint(
    "photos",
    __name__,
    url_prefix="/v1",
    description=(
        "Photos with their renditions (upright WebP thumbnail, display and annotated "
        "sizes, without EXIF), placeholders and EXIF metadata, and their bytes through "
        "short-lived links."
    ),
)

_YEAR = 31536000


def linker() -> photo_reads.Linker:
    """Links to the app's store, signed with the app's secret, as of now."""
    signer = LinkSigner(state().config.resolved_secret_key())
    return photo_reads.Linker(blob_store(), signer, time.time())


@blp.route("/assets/<uuid:asset_id>/photos")
class AssetPhotos(MethodView):
    @requires(Permission.ASSETS_READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(PhotoSchema))
    def get(self, args: dict[str, Any], asset_id: uuid.UUID) -> Any:
        """The asset's photos from every order you may open, oldest first. Customer
        contacts see only photos shown to customers."""
        with read_uow() as uow:
            return photo_reads.list_asset_photos(
                uow.session, current_actor(), linker(), asset_id, **args
            )


@blp.route("/work-orders/<uuid:work_order_id>/notes/<uuid:note_id>/photos")
class NotePhotos(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(PhotoSchema))
    @blp.problem(404, "`evidence.not_found`: no such note on this order that you may read")
    def get(self, args: dict[str, Any], work_order_id: uuid.UUID, note_id: uuid.UUID) -> Any:
        """The photos a technician attached to this note (`attach_photo` with its
        `note_id`), oldest first, as the order's photo list shows them. Customer contacts
        see only customer notes, and of their photos only those shown to customers."""
        with read_uow() as uow:
            return photo_reads.list_note_photos(
                uow.session, current_actor(), linker(), work_order_id, note_id, **args
            )


@blp.route("/work-orders/<uuid:work_order_id>/photos/<uuid:photo_id>/annotations")
class PhotoAnnotations(MethodView):
    @requires(Permission.WORK_ORDERS_UPDATE)
    @blp.arguments(AnnotationsSchema)
    @blp.response(200, PhotoSchema)
    def put(self, data: dict[str, Any], work_order_id: uuid.UUID, photo_id: uuid.UUID) -> Any:
        """Replace the photo's annotations (audited). The original is never changed: the
        worker renders an `annotated` rendition (upright, display size) shortly after."""
        actor = current_actor()
        services.annotate_photo(new_uow(), actor, work_order_id, photo_id, data["shapes"])
        with read_uow() as uow:
            return photo_reads.read_photo(uow.session, actor, linker(), work_order_id, photo_id)


@blp.route("/media/<token>")
class MediaContent(MethodView):
    @public
    @blp.response(200, description="The bytes", content_type="application/octet-stream")
    @blp.problem(403, "`media.link_expired`: list the photos again for a fresh link")
    @blp.problem(404, "`media.link_invalid`: not a link this server made, or altered")
    def get(self, token: str) -> Any:
        """The bytes behind a link from a photo listing; the link is the credential (no
        `Authorization`). Content-addressed, so cached for a year (privately: never by
        a shared cache) with the SHA-256 as `ETag`."""
        found = photo_reads.open_link(blob_store(), LinkSigner(_secret()), token)
        link = found.link
        response = send_file(found.stream, mimetype=link.content_type, etag=link.sha256)
        response.headers["Content-Disposition"] = (
            f'inline; filename="{safe_filename(link.filename)}"'
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response.cache_control.private = True
        response.cache_control.max_age = _YEAR
        response.cache_control.immutable = True
        return response


def _secret() -> str:
    return str(state().config.resolved_secret_key())
