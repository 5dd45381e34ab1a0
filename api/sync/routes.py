"""``/v1/sync/pull``: the pull side of the sync protocol over HTTP (PROTOCOL.md § 4).

Bodies are read strictly by ``sync_protocol`` (not marshmallow), so every
refusal carries the protocol's ``sync.*`` code. A client that must re-prime gets
409 with the ``reset_required`` body of § 6.9. Responses are gzip-compressed
when the client accepts it.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from flask import Response, request
from flask.views import MethodView

from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.body import body_bytes, body_policy
from api.http.context import read_connection, state
from api.http.guard import current_actor, requires
from api.sync import services
from api.sync.errors import REQUEST_ERRORS, from_protocol
from api.sync.push import service as push_service
from api.sync.schemas import (
    PullRequestSchema,
    PullResponseSchema,
    PushRequestSchema,
    PushResponseSchema,
    ResetRequiredSchema,
)
from sync_protocol.errors import ProtocolError
from sync_protocol.messages import PullResponse, PushResponse
from sync_protocol.records import ResetRequired

blp = Blueprint(
    "sync", __name__, url_prefix="/v1/sync", description="Offline sync: pull, push, blobs"
)

MAX_PUSH_BYTES = 8 * 1024 * 1024  # decompressed (PROTOCOL.md § 4)
# How every sync endpoint with a JSON body reads it; past the limit: 413 sync.body_too_large.
SYNC_BODY: dict[str, Any] = {
    "max_bytes": MAX_PUSH_BYTES,
    "gzip": True,
    "parsed_by_view": True,
    "too_large": REQUEST_ERRORS["sync.body_too_large"],
}
_COMPRESS_FROM = 512  # bytes; smaller bodies are not worth a gzip header


@blp.route("/pull")
class Pull(MethodView):
    @requires(Permission.SYNC)
    @body_policy(**SYNC_BODY)
    @blp.doc(
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": PullRequestSchema}},
        }
    )
    @blp.response(200, PullResponseSchema)
    @blp.alt_response(409, schema=ResetRequiredSchema, description="The client must re-prime")
    def post(self) -> Any:
        """One page of changes of the caller's scopes past their cursors.

        Technicians pull `technician:<their id>` and `taxonomy`; office roles may
        pull any technician's scope of their tenant. The last page (`has_more`
        false) carries the checkpoint: per-scope cursor, row count and checksum.
        Sync errors are problem+json with `sync.*` codes (see docs/errors.md);
        a replica that must be rebuilt gets 409 with `reset_required`. Right after
        its own push a client sends `Cache-Control: no-cache`: a quiet answer is
        then read from the database, not from the server worker's memory.
        """
        try:
            fieldline = state()
            outcome = services.pull(
                fieldline.uow,
                current_actor(),
                body_bytes(),
                reader=read_connection(),
                quiet_rows=None if _revalidate() else fieldline.quiet_rows,
            )
        except ProtocolError as error:
            raise from_protocol(error) from None
        return _answer(outcome)


@blp.route("/push")
class Push(MethodView):
    @requires(Permission.SYNC)
    @body_policy(**SYNC_BODY)
    @blp.doc(
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": PushRequestSchema}},
        }
    )
    @blp.response(200, PushResponseSchema)
    @blp.alt_response(409, schema=ResetRequiredSchema, description="The client must re-prime")
    def post(self) -> Any:
        """Apply a batch of a device's mutations exactly once; one receipt per mutation.

        Mutations run in `seq` order, each atomically; one that can never apply is
        `rejected` and parked in quarantine without blocking the rest. A batch
        resent after a lost response returns the stored receipts and changes
        nothing. Request-level refusals (`sync.seq_gap` with `expected_seq`,
        `sync.device_mismatch`, …) are problem+json and apply nothing. The body may
        be gzip (`Content-Encoding: gzip`), up to 8 MiB decompressed.
        """
        try:
            outcome = push_service.push(state().uow, current_actor(), body_bytes())
        except ProtocolError as error:
            raise from_protocol(error) from None
        return _answer(outcome)


def _revalidate() -> bool:
    """``Cache-Control: no-cache`` (or ``max-age=0``): the client wants the answer
    checked against the database, not the worker's memory of quiet polls. The SDK
    sends it on the pull that follows its own push, so it never hears "nothing new"
    about changes it has just made (PROTOCOL.md § 11.3)."""
    if "HTTP_CACHE_CONTROL" not in request.environ:
        return False
    directives = request.cache_control
    return bool(directives.no_cache) or directives.max_age == 0


def _answer(outcome: PullResponse | PushResponse | ResetRequired) -> Response:
    status = 409 if isinstance(outcome, ResetRequired) else 200
    # orjson: a 500-row page is ~350 kB of JSON, and encoding it was a tenth of the page.
    body = orjson.dumps(outcome.to_json())
    return Response(body, status, mimetype="application/json")


@blp.after_request
def _compress(response: Response) -> Response:
    headers = response.headers
    if "Vary" in headers:
        response.vary.add("Accept-Encoding")
    else:  # the usual case, without parsing a header that is not there
        headers["Vary"] = "Accept-Encoding"
    if response.direct_passthrough or "Content-Encoding" in headers:
        return response
    # The size first: most answers (a quiet pull, a small push) are too small to
    # be worth compressing, and they skip parsing Accept-Encoding.
    if (response.calculate_content_length() or 0) < _COMPRESS_FROM:
        return response
    if request.accept_encodings["gzip"] <= 0:
        return response
    data = response.get_data()
    response.set_data(gzip_body(data))
    response.headers["Content-Encoding"] = "gzip"
    return response


def gzip_body(data: bytes) -> bytes:
    """gzip at level 5, with a window no larger than the body needs.

    A window larger than the input finds no more matches, so the output is what
    ``gzip.compress`` gives (a test holds it to that). But zlib allocates the
    window and its hash tables, ~260 kB at full size, on every call: above the
    allocator's mmap threshold that is fresh pages each time, and a 1 kB quiet
    pull answer took 8 to 60 µs to compress depending on the process's state;
    sized to the body it needs a few kB.
    """
    # deflate looks back at most the window less 262 bytes (its look-ahead).
    window = min(15, max(9, (len(data) + 261).bit_length()))
    compressor = zlib.compressobj(5, zlib.DEFLATED, 16 + window, min(8, max(1, window - 6)))
    return compressor.compress(data) + compressor.flush()
