"""The outermost layer of every request: its id, the headers every answer carries,
and the access log line.

A WSGI middleware rather than Flask hooks: it sees every answer (Flask's own
404s and 405s included) and works on the plain environ and header list, where
Flask hooks reach each value through context proxies and header objects, which
cost a tenth of a cheap read.

- The request id is the client's ``X-Request-ID`` when it is sane, else a new
  one (:func:`api.observability.new_request_id`); it is in
  :data:`~api.observability.request_id_var` while the app runs (log lines,
  problem documents, audit rows) and echoed in the response.
- Every response gets ``X-Content-Type-Options: nosniff`` and
  ``Referrer-Policy: no-referrer``; API responses (``/v1/``) also
  ``Cache-Control: no-store`` unless the endpoint chose its own.
- One ``fieldline.access`` log line per request: method, path (never the query
  string, which may carry a token), status and duration to the first byte.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from api.observability import access_log_fields, new_request_id, request_id_var

access_log = logging.getLogger("fieldline.access")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_EVERY_RESPONSE = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"))
_API_RESPONSE = (*_EVERY_RESPONSE, ("Cache-Control", "no-store"))


class RequestEnvelope:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        request_id = new_request_id(environ.get("HTTP_X_REQUEST_ID"))
        path: str = environ.get("PATH_INFO", "")
        defaults = _API_RESPONSE if path.startswith("/v1/") else _EVERY_RESPONSE
        status = "500 INTERNAL SERVER ERROR"  # if the app raises before it answers

        def start(answer: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal status
            status = answer
            present = {name.lower() for name, _ in headers}
            headers.append(("X-Request-ID", request_id))
            headers.extend((name, value) for name, value in defaults if name.lower() not in present)
            return start_response(answer, headers, exc_info)

        token = request_id_var.set(request_id)
        try:
            return self.app(environ, start)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                fields = access_log_fields(
                    environ.get("REQUEST_METHOD", ""), path, int(status[:3]), started
                )
                # makeRecord + handle is what info() does, minus finding the caller's
                # source line in the stack, which no access line shows.
                record = access_log.makeRecord(
                    access_log.name, logging.INFO, __file__, 0, "request", (), None, extra=fields
                )
                access_log.handle(record)
            request_id_var.reset(token)
