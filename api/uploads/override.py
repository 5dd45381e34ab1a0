"""``X-HTTP-Method-Override`` for tus uploads, as WSGI middleware (before routing).

tus 1.0 lets a client that cannot send ``PATCH`` or ``DELETE`` send ``POST`` with
``X-HTTP-Method-Override`` naming the method meant, and the server must take that
method. tus-java-client (under tus-android-client) does so on JREs whose
``HttpURLConnection`` refuses ``PATCH``. Only ``/v1/uploads/...`` honours it, and only
for those two methods: nowhere else may a ``POST`` turn into another method.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

PREFIX = "/v1/uploads/"
_OVERRIDABLE = frozenset({"PATCH", "DELETE"})


class TusMethodOverride:
    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[Any]:
        wanted = environ.get("HTTP_X_HTTP_METHOD_OVERRIDE", "").strip().upper()
        if (
            wanted in _OVERRIDABLE
            and environ.get("REQUEST_METHOD") == "POST"
            and environ.get("PATH_INFO", "").startswith(PREFIX)
        ):
            environ["REQUEST_METHOD"] = wanted
        return self.app(environ, start_response)
