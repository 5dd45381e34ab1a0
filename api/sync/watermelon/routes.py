"""``GET``/``POST /v1/sync/watermelon``: WatermelonDB's sync backend contract (PROTOCOL.md § 15).

Refusals are problem+json with the protocol's ``sync.*`` codes; a replica that
must be rebuilt gets 409 with the ``reset_required`` body of § 6.9 (stock
``synchronize()`` then throws, and the app decides). Responses are gzip-compressed
when the client accepts it, exactly as ``/v1/sync/pull``'s are.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, request
from flask.views import MethodView

from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.body import body_bytes, body_policy
from api.http.context import state
from api.http.guard import current_actor, requires
from api.sync import routes as sync_routes
from api.sync.errors import from_protocol
from api.sync.schemas import ResetRequiredSchema
from api.sync.watermelon import pull, push
from api.sync.watermelon.params import read_pull_params
from api.sync.watermelon.schemas import (
    PULL_PARAMETERS,
    PUSH_PARAMETERS,
    EmptySchema,
    PullChangesSchema,
    PushChangesSchema,
)
from sync_protocol.errors import JSONValue, ProtocolError
from sync_protocol.records import ResetRequired

blp = Blueprint(
    "sync_watermelon",
    __name__,
    url_prefix="/v1/sync",
    description="WatermelonDB synchronize() backend",
)
blp.after_request(sync_routes._compress)  # one gzip policy for every sync body


@blp.route("/watermelon")
class Watermelon(MethodView):
    @requires(Permission.SYNC)
    @blp.doc(parameters=PULL_PARAMETERS)
    @blp.response(200, PullChangesSchema)
    @blp.alt_response(409, schema=ResetRequiredSchema, description="The app must re-prime")
    @blp.problem(409, "`sync.schema_too_new`: `replica_schema` is newer than the server's")
    def get(self) -> Any:
        """pullChanges: every change of the caller's scopes since `last_pulled_at`.

        A first sync (`null` or 0) gets every row of the technician's scope and
        the taxonomy; later pulls get changed rows and the IDs of rows deleted or
        gone from the scope. Every row is sent as `updated`: call synchronize()
        with `sendCreatedAsUpdated: true`. `timestamp` is opaque (a change number,
        not a time).
        """
        try:
            params = read_pull_params(request.args.to_dict())
            outcome = pull.pull(state().uow, current_actor(), params)
        except ProtocolError as error:
            raise from_protocol(error) from None
        return _answer(outcome.to_json(), 409 if isinstance(outcome, ResetRequired) else 200)

    @requires(Permission.SYNC)
    @body_policy(**sync_routes.SYNC_BODY)
    @blp.doc(
        parameters=PUSH_PARAMETERS,
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": PushChangesSchema}},
        },
    )
    @blp.response(200, EmptySchema)
    @blp.alt_response(409, schema=ResetRequiredSchema, description="The app must re-prime")
    def post(self) -> Any:
        """pushChanges: the app's local changes, as the protocol's mutations.

        Refused whole with `sync.pull_first` (409) when a pushed record changed
        on the server since `lastPulledAt` (synchronize() then pulls and retries).
        Otherwise one transaction; a change that cannot apply is quarantined, never
        failing the push. Technicians only.
        """
        try:
            reset = push.push(state().uow, current_actor(), body_bytes(), request.args.to_dict())
        except ProtocolError as error:
            raise from_protocol(error) from None
        return _answer(reset.to_json(), 409) if reset else _answer({}, 200)


def _answer(body: dict[str, JSONValue], status: int) -> Response:
    return Response(orjson.dumps(body), status, mimetype="application/json")
