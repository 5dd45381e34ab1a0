"""Request bodies: a per-endpoint size limit, gzip-encoded bodies, and the JSON check.

Most endpoints take small JSON bodies under the app's ``MAX_BODY_BYTES``. A few
declare their own policy with :func:`body_policy` on the view method: sync
pushes take up to 8 MiB, gzip-compressed if the client likes (PROTOCOL.md § 4),
and blob uploads take raw bytes. The limit applies to the *decompressed* body,
read through a bounded inflater, so a small gzip bomb is a 413 and never fills
memory. Views read the body with :func:`body_bytes`, except under a ``stream``
policy (blob uploads): then nothing is read ahead and the view reads
``request.stream`` itself, bounded by the policy's limit.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from api.errors.common import MalformedJson, PayloadTooLarge, UnsupportedMediaType
from api.http import hostile

F = TypeVar("F", bound=Callable[..., Any])
_ATTRIBUTE = "_fieldline_body_policy"
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class BodyPolicy:
    max_bytes: int | None = None  # None: the app's MAX_CONTENT_LENGTH
    json: bool = True  # False: raw bytes of any type; the view checks the type
    gzip: bool = False  # accept Content-Encoding: gzip
    stream: bool = False  # True: not read ahead; the view streams request.stream (identity only)
    # True: the view parses the JSON itself, strictly, with its own error code (the sync
    # protocol's decoder): here only the media type is checked, so it is parsed once.
    parsed_by_view: bool = False
    # The error for a body past the limit when the endpoint has its own code for it
    # (the sync endpoints answer `sync.body_too_large`); None: `request.too_large`.
    too_large: type[Exception] | None = None


def body_policy(
    *,
    max_bytes: int | None = None,
    json: bool = True,
    gzip: bool = False,
    stream: bool = False,
    parsed_by_view: bool = False,
    too_large: type[Exception] | None = None,
) -> Any:
    """Declare how an endpoint reads its body (on the MethodView method)."""

    def mark(view: F) -> F:
        policy = BodyPolicy(max_bytes, json, gzip, stream, parsed_by_view, too_large)
        setattr(view, _ATTRIBUTE, policy)
        return view

    return mark


def read_body() -> None:
    """Read, bound, inflate and (for JSON endpoints) check the body; called before the view."""
    policy = _policy()
    limit = policy.max_bytes or current_app.config["MAX_CONTENT_LENGTH"]
    request.max_content_length = limit
    encoding = (request.headers.get("Content-Encoding") or "identity").strip().lower()
    if policy.stream:
        # Reading here would buffer the whole upload in memory; the view streams it.
        if encoding != "identity":
            raise UnsupportedMediaType(f"Content-Encoding {encoding} is not accepted here")
        return
    inflated = encoding == "gzip" and policy.gzip
    try:
        raw = request.get_data(cache=True)  # raises 413 past the limit
        if inflated:
            raw = _inflate(raw, limit)
    except (PayloadTooLarge, RequestEntityTooLarge):
        if policy.too_large is None:
            raise
        raise policy.too_large(f"The body is over {limit} bytes once decompressed") from None
    if not inflated and encoding != "identity":
        raise UnsupportedMediaType(f"Content-Encoding {encoding} is not accepted here")
    g.fieldline_body = raw
    if policy.json:
        _check_json(raw, inflated=inflated, parse=not policy.parsed_by_view)


def body_bytes() -> bytes:
    """The request body as :func:`read_body` left it (decompressed)."""
    body: bytes = g.get("fieldline_body", b"")
    return body


def declares_policy() -> bool:
    """Whether the view this request goes to declared its body policy: the app reads
    every ``/v1/`` body, and the bodies of views elsewhere that declared one (the
    public repair request API, under ``/r/``)."""
    return _declared() is not None


def _policy() -> BodyPolicy:
    return _declared() or BodyPolicy()


def _declared() -> BodyPolicy | None:
    rule = request.url_rule
    if rule is None:
        return None
    view = current_app.view_functions.get(rule.endpoint)
    view_class = getattr(view, "view_class", None)
    method = getattr(view_class, request.method.lower(), None) if view_class else view
    found = getattr(method, _ATTRIBUTE, None)
    return found if isinstance(found, BodyPolicy) else None


def _inflate(data: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip header and trailer
    try:
        out = inflater.decompress(data, limit + 1)
        if len(out) > limit or inflater.unconsumed_tail:
            raise PayloadTooLarge(f"The body is over {limit} bytes once decompressed")
        if not inflater.eof:
            raise MalformedJson("The gzip body is truncated")
    except zlib.error:
        raise MalformedJson("The body is not valid gzip") from None
    return out


def _check_json(body: bytes, *, inflated: bool, parse: bool) -> None:
    """415 for a body that is not JSON, 400 for JSON that does not parse."""
    if not body:
        return
    mimetype = request.mimetype or ""
    if not (mimetype == "application/json" or mimetype.endswith("+json")):
        raise UnsupportedMediaType()
    if not parse:
        hostile.check_envelope(body)  # the view parses it: only the parser's own limit
        return
    if inflated:
        try:
            hostile.loads(body)
        except ValueError:
            raise MalformedJson() from None
    elif request.get_json(silent=True, cache=True) is None and body.strip() != b"null":
        raise MalformedJson()
