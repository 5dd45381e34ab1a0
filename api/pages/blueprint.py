"""What every page answers with, whatever its surface: the language, the security
headers and compression. Each surface makes its blueprint with :func:`page_blueprint`.

The Content-Security-Policy is strict: scripts, styles, fonts and fetches from
this server only (no inline script or style anywhere, so an injected ``<script>``
cannot run), images from here and from the map tiles' host, forms posted only
here, never framed. Page URLs can carry tokens (``/t/<token>``), so no page sends
a ``Referer``, and those that show an order are never stored by caches.
"""

from __future__ import annotations

import gzip
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, g, render_template, request
from werkzeug.exceptions import HTTPException

from api.errors.base import FieldlineError
from api.errors.problem import from_http_exception, status_for
from api.http.context import state
from api.live.urls import live_origin
from api.pages import i18n

_COMPRESS_FROM = 1024  # bytes; smaller pages fit in a packet anyway
_YEAR = 365 * 24 * 3600


def page_blueprint(name: str, import_name: str) -> Blueprint:
    """A surface's blueprint: its errors are pages too (a person reads them, not a
    program), in the page's language, with the status the API would answer."""
    blueprint = Blueprint(name, import_name)
    blueprint.before_request(_choose_language)
    blueprint.after_request(_finish)
    blueprint.register_error_handler(FieldlineError, _domain_error)
    blueprint.register_error_handler(HTTPException, _http_error)
    return blueprint


def error_page(status: int, heading: str, message: str, hint: str | None = None) -> Response:
    return render("layout/error.html", status, heading=heading, message=message, hint=hint)


def render(template: str, status: int = 200, **context: Any) -> Response:
    """A page of ``template`` in the request's language, with what the layout needs."""
    language = i18n.current()
    body = render_template(
        template,
        lang=language,
        languages=[(code, _LANGUAGE_NAMES[code], _switch_url(code)) for code in i18n.LANGUAGES],
        **context,
    )
    response = Response(body, status, mimetype="text/html")
    response.headers["Content-Language"] = language
    return response


def content_security_policy(tiles_url: str, live_origin: str | None = None) -> str:
    """``live_origin``: the live streams' origin when they are not on the page's own
    (the embedded stream server on the next port)."""
    images = "'self'"
    origin = _tiles_origin(tiles_url)
    if origin:
        images += f" {origin}"
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            "font-src 'self'",
            "connect-src 'self'" + (f" {live_origin}" if live_origin else ""),
            "manifest-src 'self'",
            "worker-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


_LANGUAGE_NAMES = {"zh-CN": "中文", "en": "English"}


def _choose_language() -> None:
    i18n.choose()


def _domain_error(error: FieldlineError) -> Response:
    language = i18n.current()
    title = error.titles.get(language) or error.titles.get("en") or error.code
    explanation = i18n.gettext("Please check the link, or try again in a moment.")
    response = error_page(status_for(error), title, explanation)
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def _http_error(error: HTTPException) -> Response:
    return _domain_error(from_http_exception(error))


def _finish(response: Response) -> Response:
    headers = response.headers
    config = state().config
    headers["Content-Security-Policy"] = content_security_policy(
        config.map_tiles_url, live_origin(config.live_url, request.scheme, request.host)
    )
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers.setdefault("Cache-Control", "no-store")
    response.vary.update(("Accept-Language", "Cookie", "Accept-Encoding"))
    switched = g.get("page_language_switched")
    if switched:
        response.set_cookie(
            i18n.COOKIE,
            switched,
            max_age=_YEAR,
            samesite="Lax",
            httponly=True,
            secure=request.is_secure,
        )
    return _compressed(response)


def _compressed(response: Response) -> Response:
    if (
        response.mimetype != "text/html"
        or response.direct_passthrough
        or "gzip" not in request.headers.get("Accept-Encoding", "")
        or "Content-Encoding" in response.headers
    ):
        return response
    body = response.get_data()
    if len(body) < _COMPRESS_FROM:
        return response
    response.set_data(gzip.compress(body, 6))
    response.headers["Content-Encoding"] = "gzip"
    return response


def _switch_url(language: str) -> str:
    """This page in ``language``: the same path and query, ``lang`` replaced."""
    args = {k: v for k, v in request.args.items() if k != "lang"}
    query = urlencode({**args, "lang": language})
    return f"{request.path}?{query}"


def _tiles_origin(url: str) -> str:
    """The tiles' origin for ``img-src``: ``{s}.tile.example`` allows every subdomain."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.netloc.replace("{s}", "*")
    return f"{parts.scheme}://{host}"
