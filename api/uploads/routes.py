"""``/v1/uploads``: resumable photo uploads speaking tus 1.0 (PROTOCOL.md § 10).

Core protocol plus the creation, creation-with-upload, checksum (sha256),
termination and expiration extensions, so stock tus clients (TUSKit,
tus-android-client, tus-js-client, tuspy) upload unchanged. ``OPTIONS`` answers
without credentials (it is also the browsers' CORS preflight); every other method
needs ``Authorization`` and reaches only the caller's own uploads. Bodies stream
into the staging area (the body policy ``stream`` leaves ``request.stream`` unread).
Every response carries ``Tus-Resumable`` and the CORS headers browsers need to read
the tus headers; refusals are problem+json with ``upload.*`` codes.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, request
from flask.views import MethodView
from werkzeug.exceptions import ClientDisconnected

from api.auth.permissions import Permission
from api.db import utcnow
from api.http.blueprint import Blueprint
from api.http.body import body_policy
from api.http.context import blob_store, new_uow, read_uow, state
from api.http.guard import current_actor, requires
from api.uploads import errors, services
from media import tus

blp = Blueprint(
    "uploads",
    __name__,
    url_prefix="/v1/uploads",
    description="Resumable photo uploads (tus 1.0)",
)

_TUS_HEADERS = (
    "Tus-Resumable",
    "Tus-Version",
    "Tus-Extension",
    "Tus-Max-Size",
    "Tus-Checksum-Algorithm",
    "Upload-Offset",
    "Upload-Length",
    "Upload-Metadata",
    "Upload-Checksum",
    "Upload-Expires",
    "Upload-Defer-Length",
    "Upload-Concat",
)
_CORS = {
    "Access-Control-Allow-Origin": "*",  # bearer tokens, never cookies: any origin may try
    "Access-Control-Expose-Headers": ", ".join(("Location", *_TUS_HEADERS)),
}
_PREFLIGHT = {
    "Access-Control-Allow-Methods": "POST, HEAD, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": ", ".join(
        (
            "Authorization",
            "Content-Type",
            "X-Requested-With",
            "X-Request-ID",
            "X-HTTP-Method-Override",
            *_TUS_HEADERS,
        )
    ),
    "Access-Control-Max-Age": "86400",
}


@blp.before_request
def _options() -> Response | None:
    """``OPTIONS``: what this server supports (tus discovery, and the CORS preflight)."""
    if request.method != "OPTIONS":
        return None
    response = Response(status=204)
    response.headers.update(_PREFLIGHT)
    response.headers["Tus-Version"] = tus.TUS_VERSION
    response.headers["Tus-Extension"] = ",".join(tus.EXTENSIONS)
    response.headers["Tus-Max-Size"] = str(_uploads().max_bytes)
    response.headers["Tus-Checksum-Algorithm"] = ",".join(tus.CHECKSUM_ALGORITHMS)
    return response


@blp.after_request
def _tus_headers(response: Response) -> Response:
    response.headers["Tus-Resumable"] = tus.TUS_VERSION
    response.headers.update(_CORS)
    if response.status_code == 412:
        response.headers["Tus-Version"] = tus.TUS_VERSION
    return response


@blp.route("")
class UploadCollection(MethodView):
    @requires(Permission.SYNC)
    @body_policy(max_bytes=None, json=False, stream=True)
    @blp.doc(
        requestBody={
            "required": False,
            "content": {
                tus.OFFSET_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}
            },
        }
    )
    @blp.response(201, description="Created; `Location` names the upload")
    @blp.problem(412, "`upload.version_unsupported`: send `Tus-Resumable: 1.0.0`")
    @blp.problem(460, "`upload.checksum_mismatch`: the body does not match `Upload-Checksum`")
    def post(self) -> Any:
        """Create an upload (tus creation, creation-with-upload).

        Headers: `Upload-Length` (bytes, at most `Tus-Max-Size`, else 413
        `upload.too_large`) and `Upload-Metadata` with `sha256` (the photo's SHA-256,
        lowercase hex) and `filetype` (image/jpeg, png, webp or heic), optionally
        `filename`. A body sent as `application/offset+octet-stream` is appended at
        once (creation-with-upload) and `Upload-Offset` says how much was kept.

        Needs `Tus-Resumable: 1.0.0` (else 412 `upload.version_unsupported`); see
        https://tus.io/protocols/resumable-upload and PROTOCOL.md § 10.
        """
        tus_request()
        uploads = _uploads()
        try:
            length = tus.parse_length(request.headers.get("Upload-Length"), uploads.max_bytes)
            metadata = tus.parse_metadata(request.headers.get("Upload-Metadata"))
        except tus.TusError as error:
            raise errors.from_tus(error) from None
        upload = services.create_upload(uploads, current_actor(), length, metadata, utcnow())
        if request.mimetype == tus.OFFSET_CONTENT_TYPE:
            upload = services.append_chunk(
                uploads, current_actor(), upload.id, _chunk(0, uploads.max_bytes), utcnow()
            )
        response = _progress(upload, 201)
        response.headers["Location"] = f"{request.host_url.rstrip('/')}{blp.url_prefix}/{upload.id}"
        return response


@blp.route("/<uuid:upload_id>")
class UploadItem(MethodView):
    @requires(Permission.SYNC)
    @blp.response(200, description="`Upload-Offset`, `Upload-Length`, `Upload-Metadata`")
    @blp.problem(404, "`upload.not_found`: no such upload of yours")
    @blp.problem(410, "`upload.expired`")
    @blp.problem(412, "`upload.version_unsupported`: send `Tus-Resumable: 1.0.0`")
    def head(self, upload_id: uuid.UUID) -> Any:
        """How far an upload got: resume from its `Upload-Offset`.

        Needs `Tus-Resumable: 1.0.0` (else 412 `upload.version_unsupported`); see
        https://tus.io/protocols/resumable-upload and PROTOCOL.md § 10.
        """
        tus_request()
        upload = services.inspect_upload(read_uow(), current_actor(), upload_id, utcnow())
        response = _progress(upload, 200)
        response.headers["Upload-Length"] = str(upload.length)
        response.headers["Upload-Metadata"] = tus.encode_metadata(upload.metadata)
        response.headers["Cache-Control"] = "no-store"
        return response

    @requires(Permission.SYNC)
    @body_policy(max_bytes=None, json=False, stream=True)
    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                tus.OFFSET_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}
            },
        }
    )
    @blp.response(204, description="Appended; `Upload-Offset` is the new offset")
    @blp.problem(410, "`upload.expired`")
    @blp.problem(412, "`upload.version_unsupported`: send `Tus-Resumable: 1.0.0`")
    @blp.problem(423, "`upload.locked`: another append to this upload is running")
    @blp.problem(460, "`upload.checksum_mismatch`: the body does not match `Upload-Checksum`")
    def patch(self, upload_id: uuid.UUID) -> Any:
        """Append bytes at `Upload-Offset` (tus core, checksum).

        `Upload-Offset` must be the upload's offset (else 409 `upload.offset_mismatch`);
        the body is `application/offset+octet-stream`. With `Upload-Checksum: sha256
        <base64>` a body that does not match is 460 `upload.checksum_mismatch` and none of
        it is kept. One append at a time per upload: 423 `upload.locked`. The last byte
        stores the photo: bytes that do not hash to the `sha256` of `Upload-Metadata`
        are 422 `upload.hash_mismatch` and the upload is removed; bytes that are not one
        whole image are 415 `media.unsupported_type` or 422 `media.corrupt`,
        `media.too_many_pixels` or `media.polyglot`, and the upload is removed too.

        Needs `Tus-Resumable: 1.0.0` (else 412 `upload.version_unsupported`); see
        https://tus.io/protocols/resumable-upload and PROTOCOL.md § 10.
        """
        tus_request()
        if request.mimetype != tus.OFFSET_CONTENT_TYPE:
            raise errors.UploadUnsupportedMediaType(f"Send the body as {tus.OFFSET_CONTENT_TYPE}")
        try:
            offset = tus.parse_offset(request.headers.get("Upload-Offset"))
        except tus.TusError as error:
            raise errors.from_tus(error) from None
        uploads = _uploads()
        chunk = _chunk(offset, uploads.max_bytes)
        upload = services.append_chunk(uploads, current_actor(), upload_id, chunk, utcnow())
        return _progress(upload, 204)

    @requires(Permission.SYNC)
    @blp.response(204, description="Removed with its bytes")
    @blp.problem(412, "`upload.version_unsupported`: send `Tus-Resumable: 1.0.0`")
    def delete(self, upload_id: uuid.UUID) -> Any:
        """Terminate an upload (tus termination); a finished photo's blob stays.

        Needs `Tus-Resumable: 1.0.0` (else 412 `upload.version_unsupported`); see
        https://tus.io/protocols/resumable-upload and PROTOCOL.md § 10.
        """
        tus_request()
        services.terminate_upload(_uploads(), current_actor(), upload_id)
        return Response(status=204)


def tus_request() -> None:
    try:
        tus.check_version(request.headers.get("Tus-Resumable"))
    except tus.TusError as error:
        raise errors.from_tus(error) from None


def _uploads() -> services.Uploads:
    config = state().config
    return services.Uploads(
        uow=_WriteUow(),
        staging=tus.StagingArea(config.resolved_upload_dir()),
        store=blob_store(),
        max_bytes=config.upload_max_bytes,
    )


def _chunk(offset: int, max_bytes: int) -> services.Chunk:
    # An upload's body may be as large as the upload, past the app's MAX_BODY_BYTES; the
    # stream is not opened yet (body policy ``stream``), so the limit still applies.
    request.max_content_length = max_bytes
    try:
        checksum = tus.parse_checksum(request.headers.get("Upload-Checksum"))
    except tus.TusError as error:
        raise errors.from_tus(error) from None
    return services.Chunk(offset, checksum, request.content_length, _Body())


def _progress(upload: services.Upload, status: int) -> Response:
    response = Response(status=status)
    response.headers["Upload-Offset"] = str(upload.offset)
    if not upload.completed:
        response.headers["Upload-Expires"] = tus.http_date(upload.expires_at)
    return response


class _WriteUow:
    """The unit-of-work factory the service needs, handing the request's read
    connection back before a write (see :func:`api.http.context.new_uow`)."""

    def __call__(self) -> Any:
        return new_uow()

    def reader(self) -> Any:
        return read_uow()


class _Body:
    """The request body, read chunk by chunk; a client that went away is a ConnectionError
    (the engine keeps what arrived, so the client can resume).

    When the server ends the body at its ``Content-Length`` itself (gunicorn says so with
    ``wsgi.input_terminated``), it is read straight from ``wsgi.input``: werkzeug's
    ``LimitedStream`` around it would copy every 1 MiB read twice more (into a new
    buffer, then out of it). The size limit still holds: the engine refuses a
    ``Content-Length`` past the upload's room before reading, and never reads more."""

    def __init__(self) -> None:
        self._stream: Any = None

    def read(self, size: int, /) -> bytes:
        try:
            if self._stream is None:
                self._stream = _body_stream()
            return self._stream.read(size)  # type: ignore[no-any-return]
        except (ClientDisconnected, OSError) as error:
            raise ConnectionError(str(error)) from error


def _body_stream() -> Any:
    environ = request.environ
    length = request.content_length
    if environ.get("wsgi.input_terminated") and length is not None:
        if request.max_content_length is not None and length > request.max_content_length:
            return request.stream  # werkzeug answers 413, as for any too large body
        return environ["wsgi.input"]
    return request.stream
