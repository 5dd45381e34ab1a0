"""``/v1/sync/pull``: the pull side of the sync protocol over HTTP (PROTOCOL.md § 4).

Bodies are read strictly by ``sync_protocol`` (not marshmallow), so every
refusal carries the protocol's ``sync.*`` code. A client that must re-prime gets
409 with the ``reset_required`` body of § 6.9. Responses are gzip-compressed
when the client accepts it.
"""

from __future__ import annotations

import gzip
from typing import Any

from flask import Response, json, request
from flask.views import MethodView
from flask_smorest import Blueprint

from api.auth.permissions import Permission
from api.http.context import state
from api.http.guard import current_actor, requires
from api.sync import services
from api.sync.errors import from_protocol
from api.sync.schemas import PullRequestSchema, PullResponseSchema, ResetRequiredSchema
from sync_protocol.errors import ProtocolError
from sync_protocol.records import ResetRequired

blp = Blueprint("sync", __name__, url_prefix="/v1/sync", description="Offline sync (pull)")

_COMPRESS_FROM = 512  # bytes; smaller bodies are not worth a gzip header


@blp.route("/pull")
class Pull(MethodView):
    @requires(Permission.SYNC)
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
        a replica that must be rebuilt gets 409 with `reset_required`.
        """
        try:
            outcome = services.pull(state().uow, current_actor(), request.get_data())
        except ProtocolError as error:
            raise from_protocol(error) from None
        status = 409 if isinstance(outcome, ResetRequired) else 200
        body = json.dumps(outcome.to_json(), ensure_ascii=False)
        return Response(body, status, mimetype="application/json")


@blp.after_request
def _compress(response: Response) -> Response:
    response.vary.add("Accept-Encoding")
    if (
        response.direct_passthrough
        or "Content-Encoding" in response.headers
        or request.accept_encodings["gzip"] <= 0
    ):
        return response
    data = response.get_data()
    if len(data) < _COMPRESS_FROM:
        return response
    response.set_data(gzip.compress(data, compresslevel=5))
    response.headers["Content-Encoding"] = "gzip"
    return response
