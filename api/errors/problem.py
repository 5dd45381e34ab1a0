"""The one place errors become RFC 9457 ``application/problem+json`` responses.

Statuses are chosen by the error's *kind*, never by its code. Titles follow
``Accept-Language`` (``zh-CN`` or ``en``). Unexpected exceptions become a 500
that carries only a trace id; the stack trace goes to the log, never the client.
"""

from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
from flask import Flask, Response, json, request
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from api.errors import common
from api.errors.base import (
    BadRequest,
    ChecksumFailed,
    Conflict,
    FieldlineError,
    FieldProblem,
    Forbidden,
    Gone,
    InvalidInput,
    Locked,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    TooManyRequests,
    Unauthenticated,
)
from api.errors.fields import field_problems_from_messages
from api.observability import request_id_var

log = logging.getLogger("fieldline.errors")

PROBLEM_MIMETYPE = "application/problem+json"
TYPE_BASE = "https://fieldline.dev/problems/"

_STATUS_BY_KIND: list[tuple[type[FieldlineError], int]] = [
    (BadRequest, 400),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (common.MethodNotAllowed, 405),
    (Conflict, 409),
    (Gone, 410),
    (PreconditionFailed, 412),
    (common.PayloadTooLarge, 413),
    (common.UriTooLong, 414),
    (common.UnsupportedMediaType, 415),
    (InvalidInput, 422),
    (Locked, 423),
    (PreconditionRequired, 428),
    (TooManyRequests, 429),
    (common.HeadersTooLarge, 431),
    (ChecksumFailed, 460),
    (common.DatabaseUnavailable, 503),
]

_ERROR_BY_HTTP_STATUS: dict[int, type[FieldlineError]] = {
    400: common.MalformedJson,
    401: common.AuthRequired,
    403: common.PermissionDenied,
    404: common.RouteNotFound,
    405: common.MethodNotAllowed,
    413: common.PayloadTooLarge,
    415: common.UnsupportedMediaType,
    422: common.ValidationFailed,
    429: common.RateLimited,
}


def status_for(error: FieldlineError) -> int:
    for kind, status in _STATUS_BY_KIND:
        if isinstance(error, kind):
            return status
    return 500


def negotiate_language() -> str:
    best = request.accept_languages.best_match(["en", "zh-CN", "zh"], default="en")
    return "zh-CN" if best in ("zh", "zh-CN") else "en"


def problem_response(error: FieldlineError) -> Response:
    status = status_for(error)
    lang = negotiate_language()
    title = error.titles.get(lang) or error.titles.get("en") or error.code
    body: dict[str, Any] = {
        "type": TYPE_BASE + error.code,
        "title": title,
        "status": status,
        "detail": error.detail or title,
        "instance": request.path,
        "code": error.code,
        "trace_id": request_id_var.get(),
    }
    if error.errors:
        body["errors"] = [_field_error(p, lang) for p in error.errors]
    # Extra members add context; they can never replace the RFC 9457 members.
    body = {**error.extra, **body}
    response = Response(json.dumps(body, ensure_ascii=False), status, mimetype=PROBLEM_MIMETYPE)
    response.headers["Content-Language"] = lang
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def _field_error(problem: FieldProblem, lang: str) -> dict[str, str]:
    from api.errors.fields import localised_field_message

    return {
        "field": problem.field,
        "code": problem.code,
        "message": localised_field_message(problem, lang),
    }


def from_http_exception(exc: HTTPException) -> FieldlineError:
    status = exc.code or 500
    if status == 422:
        messages = getattr(exc, "data", {}).get("messages", {})
        return common.ValidationFailed(errors=field_problems_from_messages(messages))
    if status == 429:
        retry_after = exc.get_headers()
        headers = {k: v for k, v in retry_after if k.lower() == "retry-after"}
        return common.RateLimited(exc.description, headers=headers)
    error_class = _ERROR_BY_HTTP_STATUS.get(status, common.InternalError)
    if status == 405:
        allowed = getattr(exc, "valid_methods", None) or []
        return error_class(headers={"Allow": ", ".join(allowed)} if allowed else None)
    return error_class()


def install(app: Flask) -> None:
    """Route every error the app can raise through :func:`problem_response`."""

    @app.errorhandler(FieldlineError)
    def _domain(error: FieldlineError) -> Response:
        return problem_response(error)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        return problem_response(from_http_exception(exc))

    @app.errorhandler(IntegrityError)
    def _integrity(exc: IntegrityError) -> Response:
        # Services check uniqueness first; this is the race two requests can still
        # lose at the database's constraint. The transaction is already rolled back.
        log.info("integrity conflict", extra={"constraint": str(exc.orig)[:200]})
        return problem_response(common.ConflictingData())

    @app.errorhandler(DBAPIError)
    def _database(exc: DBAPIError) -> Response:
        if not exc.connection_invalidated:
            return _unexpected(exc)
        # A dropped connection (database restart, failover): the pool is already
        # invalidated, so a retry gets a fresh connection.
        log.warning("database connection lost", extra={"error": str(exc.orig)[:200]})
        return problem_response(common.DatabaseUnavailable(headers={"Retry-After": "1"}))

    @app.errorhandler(StaleDataError)
    def _stale(_exc: StaleDataError) -> Response:
        return problem_response(common.ConcurrentUpdate())

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error", extra={"trace_id": request_id_var.get()})
        return problem_response(common.InternalError())


class FieldErrorSchema(ma.Schema):
    """One bad field of a request (``errors[]``)."""

    field = ma.fields.String(
        required=True, metadata={"description": "Dotted path: `site.lat`, a query or header name"}
    )
    code = ma.fields.String(
        required=True, metadata={"description": "Stable field code (docs/errors.md)"}
    )
    message = ma.fields.String(required=True, metadata={"description": "Localised explanation"})


class ProblemSchema(ma.Schema):
    """The body of every error: RFC 9457 ``application/problem+json``, as
    :func:`problem_response` writes it. Documentation only (nothing loads it), named
    ``Problem`` in the OpenAPI components and referenced by every error response."""

    class Meta:
        # Some problems add context (`current_status`, `allowed_actions`, ...).
        unknown = ma.INCLUDE
        ordered = True

    type = ma.fields.String(
        required=True, metadata={"format": "uri", "example": TYPE_BASE + "request.not_found"}
    )
    title = ma.fields.String(
        required=True, metadata={"description": "In the language of `Accept-Language`"}
    )
    status = ma.fields.Integer(required=True, metadata={"description": "The HTTP status"})
    detail = ma.fields.String(required=True)
    instance = ma.fields.String(required=True, metadata={"description": "The request path"})
    code = ma.fields.String(
        required=True,
        metadata={
            "description": "Stable dotted code to branch on (docs/errors.md)",
            "example": "request.validation_failed",
        },
    )
    trace_id = ma.fields.String(
        required=True, metadata={"description": "Matches `X-Request-ID` and the server log"}
    )
    errors = ma.fields.List(
        ma.fields.Nested(FieldErrorSchema),
        metadata={"description": "Validation problems, one per field (422)"},
    )
    parameters = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "`request.unknown_query_parameter`: the query parameters refused"},
    )
