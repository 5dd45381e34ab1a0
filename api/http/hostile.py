"""The one guard every text entering the API passes: no NUL, no lone surrogate, no deep nesting.

PostgreSQL refuses NUL in text, a lone surrogate cannot be encoded to UTF-8,
and deep nesting overflows a recursive parser: unchecked, each was a 500. The
guard answers instead, as RFC 9457 problems:

* ``request.text_invalid`` (422), naming the field, parameter or header in
  ``errors[].field`` (``contains_nul`` / ``invalid_unicode``);
* ``request.nesting_too_deep`` (400) past ``FIELDLINE_MAX_JSON_DEPTH`` (64),
  measured on the raw bytes before parsing (``sync_protocol.untrusted``).

Where it looks: the path and the query string (before routing, as bytes, so
CESU-8 "surrogates" and ``%00`` are seen), the headers the API reads, every
JSON body the app parses (the JSON provider's ``loads`` runs the checks, so
marshmallow never sees such text), and every form body (URL-encoded or
multipart: the public repair request, the tracking page's rating, the console's
sign-in), checked by the request class as soon as the form is parsed. The sync
endpoints parse their own bodies (``parsed_by_view``): the guard only refuses an
envelope too deep for the parser (:data:`~sync_protocol.untrusted.ENVELOPE_MAX_DEPTH`);
bad text inside one mutation's ``args`` or one WatermelonDB record rejects only
that one (``sync.invalid_value``, quarantined), so a device's outbox always drains.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from flask import Flask, Request, current_app, has_request_context, request

from api.errors.base import FieldProblem
from api.errors.common import NestingTooDeep, TextInvalid
from sync_protocol.untrusted import (
    ENVELOPE_MAX_DEPTH,
    bad_char,
    find_bad_text,
    may_hold_bad_text,
    raw_depth,
    visible,
)

EXTENSION = "fieldline_hostile"
# The request headers the API reads; each value is checked as text.
READ_HEADERS = (
    "Authorization",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "Accept-Language",
    "Accept-Encoding",
    "Content-Type",
    "Content-Encoding",
    "Cache-Control",
    "User-Agent",
    "X-Request-ID",
)
_FIELD_CODES = {
    "nul": "contains_nul",
    "surrogate": "invalid_unicode",
    "bytes": "invalid_unicode",
    "control": "invalid_format",
}
_TEXT_REASONS = {
    "nul": "Text may not contain NUL (U+0000)",
    "surrogate": "Text is not valid Unicode (a lone surrogate, U+D800-U+DFFF)",
}
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


class HostileGuard:
    """The guard's settings for one app (``enabled`` exists for the benchmark's baseline)."""

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.enabled = True


def install(app: Flask, max_depth: int) -> None:
    """Register the guard: call before any other ``before_request`` hook."""
    app.extensions[EXTENSION] = HostileGuard(max_depth)
    app.request_class = GuardedRequest
    app.before_request(check_request)


class GuardedRequest(Request):
    """Flask's request, whose form fields (names, values, file names) pass the guard
    when the form is parsed, whoever reads it first (webargs, a page's view)."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        if _guard() is None:
            return
        for name, value in self.form.items(multi=True):
            _check_text(name, name)
            _check_text(name, value)
        for name, upload in self.files.items(multi=True):
            _check_text(name, name)
            _check_text(name, upload.filename or "")


def _guard() -> HostileGuard | None:
    found = current_app.extensions.get(EXTENSION)
    return found if isinstance(found, HostileGuard) and found.enabled else None


def check_request() -> None:
    """Path, query string and read headers (a ``before_request`` hook)."""
    if _guard() is None:
        return
    environ = request.environ
    _check_raw("path", environ.get("PATH_INFO", ""), percent_encoded=False)
    query = environ.get("QUERY_STRING", "")
    if query and ("%" in query or not query.isascii()):
        for pair in query.split("&"):
            name, _, value = pair.partition("=")
            shown = _decoded(name)
            _check_raw(shown or "query", name, percent_encoded=True)
            _check_raw(shown, value, percent_encoded=True)
    headers = request.headers
    for header in READ_HEADERS:
        value = headers.get(header)
        if value and not value.isprintable() and _CONTROL.search(value):
            _refuse(header, "nul" if "\x00" in value else "control", "No control characters")


def check_envelope(raw: bytes) -> None:
    """A sync body the view parses itself: only depth that would break the parser is refused."""
    if _guard() is not None:
        _check_depth(raw, ENVELOPE_MAX_DEPTH)


def loads(data: str | bytes, **kwargs: Any) -> Any:
    """``json.loads`` for request bodies, with the guard's checks around it."""
    guard = _guard() if has_request_context() else None
    if guard is None:
        return json.loads(data, **kwargs)
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    _check_depth(raw, guard.max_depth)
    value = _parse(raw) if not kwargs else json.loads(data, **kwargs)
    if may_hold_bad_text(raw):
        found = find_bad_text(value)
        if found is not None:
            _refuse(found.path or "body", found.kind, found.reason)
    return value


def _parse(raw: bytes) -> Any:
    """orjson (a GPS batch of a thousand fixes parses four times faster), and the
    standard library for what orjson refuses but it reads (``NaN``, ``Infinity``,
    integers past 64 bits, escaped lone surrogates), so both read the same values
    and a body either refuses is refused alike."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def _check_depth(raw: bytes, limit: int) -> None:
    if raw_depth(raw, limit) > limit:
        raise NestingTooDeep(
            f"The JSON body is nested more than {limit} levels deep",
            extra={"max_depth": limit},
        )


def _check_raw(field: str, text: str, *, percent_encoded: bool) -> None:
    """``text`` is WSGI's latin-1 view of the bytes (percent-encoded for the query)."""
    if not text or (text.isascii() and (not percent_encoded or "%" not in text)):
        if "\x00" in text:
            _refuse(field, "nul", "Text may not contain NUL (U+0000)")
        return
    data = text.encode("latin-1", "replace")
    if percent_encoded:
        data = unquote_to_bytes(data.replace(b"+", b" "))
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        _refuse(field, "bytes", "Not valid UTF-8 (CESU-8 surrogates included)")
    if bad_char(decoded) is not None:
        _refuse(field, "nul", "Text may not contain NUL (U+0000)")


def _check_text(field: str, text: str) -> None:
    kind = bad_char(text)
    if kind is not None:
        _refuse(field, kind, _TEXT_REASONS[kind])


def _decoded(name: str) -> str:
    try:
        text = unquote_to_bytes(name.encode("latin-1", "replace")).decode("utf-8", "replace")
    except ValueError:
        return "query"
    return visible(text)


def _refuse(field: str, kind: str, reason: str) -> None:
    raise TextInvalid(
        f"{visible(field)}: {reason}",
        errors=[FieldProblem(visible(field), _FIELD_CODES.get(kind, "invalid_unicode"), reason)],
    )
