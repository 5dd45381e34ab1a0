"""The ``Idempotency-Key`` decorator for create endpoints.

Put it between the permission guard and flask-smorest's decorators::

    @requires(Permission.CUSTOMERS_WRITE)
    @idempotent
    @blp.arguments(CustomerCreateSchema)
    @blp.response(201, CustomerSchema)
    def post(self, data): ...

A replay with the same body returns the first response (with
``Idempotent-Replayed: true``); the same key with a different body is a 422.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, make_response, request

from api.errors.common import BadHeader
from api.http.context import new_uow
from api.http.guard import current_actor
from api.idempotency import services

F = TypeVar("F", bound=Callable[..., Any])

_REPLAYED_HEADERS = ("ETag", "Location")


def idempotent(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        key = key.strip()
        if not 1 <= len(key) <= 255 or not key.isprintable():
            raise BadHeader("Idempotency-Key must be 1 to 255 printable characters")
        actor = current_actor()
        principal = actor.principal_id
        assert principal is not None  # people and API keys both have one
        fingerprint = _fingerprint()
        replay = services.claim(new_uow(), actor.tenant_id, principal, key, fingerprint)
        if replay is not None:
            response = Response(
                json.dumps(replay.body, ensure_ascii=False),
                replay.status,
                mimetype="application/json",
            )
            response.headers.update(replay.headers)
            response.headers["Idempotent-Replayed"] = "true"
            return response
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            services.release(new_uow(), actor.tenant_id, principal, key)
            raise
        if 200 <= response.status_code < 300:
            headers = {h: response.headers[h] for h in _REPLAYED_HEADERS if h in response.headers}
            stored = services.Replay(response.status_code, response.get_json(), headers)
            services.complete(new_uow(), actor.tenant_id, principal, key, stored)
        else:
            services.release(new_uow(), actor.tenant_id, principal, key)
        return response

    return wrapper  # type: ignore[return-value]


def _fingerprint() -> str:
    body = request.get_data(cache=True)
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = body.decode("utf-8", "replace")
    material = f"{request.method} {request.path}\n{canonical}"
    return hashlib.sha256(material.encode()).hexdigest()
