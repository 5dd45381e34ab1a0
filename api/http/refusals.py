"""gunicorn's own refusals as problem+json, like every other error of the API.

gunicorn refuses some requests before the app sees them: a request line past
``limit_request_line`` (a 20 KB URL), too many or too large headers, a control
byte in a header, a malformed request line or chunked body. Its stock answer is
an HTML page. :class:`ProblemWorker` (the ``gthread`` worker ``fieldline serve``
runs) answers them as RFC 9457 ``application/problem+json`` with stable codes:
``request.uri_too_long`` (414), ``request.headers_too_large`` (431) and
``request.unreadable`` (400). Anything else that escapes the app is
``server.internal_error`` (500) with only a trace id.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from gunicorn.http import errors as http_errors
from gunicorn.util import write_nonblock
from gunicorn.workers.gthread import ThreadWorker

from api.errors.base import FieldlineError
from api.errors.common import HeadersTooLarge, InternalError, Unreadable, UriTooLong
from api.errors.problem import PROBLEM_MIMETYPE, TYPE_BASE

# What gunicorn itself refuses as the client's fault (as its own handle_error lists them).
_CLIENT_ERRORS: tuple[type[BaseException], ...] = tuple(
    getattr(http_errors, name)
    for name in (
        "InvalidRequestLine",
        "InvalidRequestMethod",
        "InvalidHTTPVersion",
        "InvalidHeader",
        "InvalidHeaderName",
        "LimitRequestLine",
        "LimitRequestHeaders",
        "InvalidProxyLine",
        "ForbiddenProxyRequest",
        "InvalidSchemeHeaders",
        "UnsupportedTransferCoding",
        "ObsoleteFolding",
        "ExpectationFailed",
        "InvalidChunkSize",
        "ChunkMissingTerminator",
        "InvalidChunkExtension",
    )
    if hasattr(http_errors, name)
)
_REASONS = {400: "Bad Request", 414: "URI Too Long", 431: "Request Header Fields Too Large"}


def refusal_for(exc: BaseException) -> tuple[int, FieldlineError]:
    """The status and error that answer one of gunicorn's early refusals."""
    if isinstance(exc, http_errors.LimitRequestLine):
        return 414, UriTooLong()
    if isinstance(exc, http_errors.LimitRequestHeaders):
        return 431, HeadersTooLarge()
    if isinstance(exc, _CLIENT_ERRORS):
        return 400, Unreadable()
    return 500, InternalError()


def problem_bytes(status: int, error: FieldlineError) -> bytes:
    """A complete HTTP/1.1 response (``Connection: close``) carrying the problem."""
    title = error.titles["en"]
    body = json.dumps(
        {
            "type": TYPE_BASE + error.code,
            "title": title,
            "status": status,
            "detail": title,
            "instance": "",
            "code": error.code,
            "trace_id": uuid.uuid4().hex,
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Internal Server Error')}\r\n"
        "Connection: close\r\n"
        f"Content-Type: {PROBLEM_MIMETYPE}\r\n"
        "Content-Language: en\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


class ProblemWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's ``gthread`` worker, answering its own refusals as problem+json."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        status, error = refusal_for(exc)
        ip = (addr or ("", -1))[0]
        if status < 500:
            self.log.warning("Invalid request from ip=%s: %s", ip, exc)
        else:
            self.log.exception("Error handling request")
        try:
            write_nonblock(client, problem_bytes(status, error))
        except Exception:
            self.log.debug("Failed to send error message.")
