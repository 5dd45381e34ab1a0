"""``/v1/sync/blobs/{sha256}``: photo bytes over HTTP (PROTOCOL.md § 4, § 10).

``HEAD`` tells the SDK's upload queue whether it may skip an upload; ``PUT``
streams the raw bytes (never buffered in memory: the body policy ``stream``
leaves ``request.stream`` unread for the view) through the blob store, which
keeps them only if they hash to the URL's SHA-256. Refusals are problem+json
with ``sync.*`` codes; a malformed SHA-256 is 404 (see :mod:`api.sync.blobs`).
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from marshmallow import Schema, fields

from api.auth.permissions import Permission
from api.errors.common import RouteNotFound
from api.http.blueprint import Blueprint
from api.http.body import body_policy
from api.http.context import blob_store, new_uow, read_uow
from api.http.guard import current_actor, requires
from api.sync import blobs
from api.sync.errors import from_protocol
from sync_protocol.entities import PhotoType
from sync_protocol.errors import ProtocolError
from sync_protocol.mutations import MAX_PHOTO_BYTES

blp = Blueprint(
    "sync_blobs",
    __name__,
    url_prefix="/v1/sync/blobs",
    description="Offline sync: content-addressed photo bytes",
)

_PHOTO_TYPES = tuple(kind.value for kind in PhotoType)  # PROTOCOL.md § 9


class StoredBlobSchema(Schema):
    sha256 = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True, metadata={"description": "bytes stored"})


@blp.route("/<sha256>")
class Blob(MethodView):
    @requires(Permission.SYNC)
    @blp.response(200, description="The caller's tenant has these bytes")
    @blp.alt_response(404, description="Not stored for this tenant (or not a SHA-256)")
    def head(self, sha256: str) -> Any:
        """Whether the bytes with this SHA-256 are stored, so an upload can be skipped."""
        if not blobs.blob_exists(read_uow(), current_actor(), sha256):
            # A HEAD answer has no body: the 404 an unknown URL gets says all there is.
            raise RouteNotFound("No bytes with this SHA-256 are stored for your tenant")
        return Response(status=200)

    @requires(Permission.SYNC)
    @body_policy(max_bytes=MAX_PHOTO_BYTES + 1, json=False, stream=True)
    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}} for kind in _PHOTO_TYPES
            },
        }
    )
    @blp.response(201, StoredBlobSchema, description="Stored")
    @blp.alt_response(200, schema=StoredBlobSchema, description="Already stored (idempotent)")
    def put(self, sha256: str) -> Any:
        """Upload photo bytes under their SHA-256 (lowercase hex).

        The server hashes the body while storing it: bytes that do not hash to the
        URL's SHA-256 are 422 `sync.checksum_mismatch` and nothing is kept; over
        25 MiB is 413 `sync.blob_too_large`; a `Content-Type` other than
        image/jpeg, png, webp or heic is 415 `sync.unsupported_media_type`; the
        body is sent as is (no `Content-Encoding`). The verified bytes must then be
        one whole image (checked from their magic bytes, not the header): 415
        `media.unsupported_type`, 422 `media.corrupt`, `media.too_many_pixels` or
        `media.polyglot` otherwise, and nothing is kept. The answer's `content_type`
        is the type the bytes are, which is what reads serve. A URL whose last segment is not
        64 lowercase hex digits is 404 `request.not_found`.
        Photos waiting for these bytes become `ready` (or `invalid` when their
        declared size differs) in the same transaction, and sync to devices.
        """
        upload = blobs.BlobUpload(sha256, request.mimetype, request.content_length)
        store = blob_store()
        try:
            # new_uow() hands the request's read connection back before the upload
            # streams in: a slow phone must not hold a pooled connection meanwhile.
            stored = blobs.upload_blob(new_uow(), store, current_actor(), upload, _Body())
        except ProtocolError as error:
            raise from_protocol(error) from None
        return stored, 201 if stored.created else 200


class _Body:
    """The request body, opened at the first read.

    Opening ``request.stream`` refuses an oversized Content-Length at once with a
    generic 413; opening it only when the service starts reading lets the service
    answer the type and size checks first, with their ``sync.*`` codes.
    """

    def read(self, size: int, /) -> bytes:
        return request.stream.read(size)
