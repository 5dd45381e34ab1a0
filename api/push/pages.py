"""The browser side of Web Push, served from the site's root: ``/push-sw.js`` (the
service worker; at the root so its scope covers every page) and
``/push-subscribe.js`` (what a page calls to subscribe). Static, public, no data."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

from api.http.guard import public

web = Blueprint("push_pages", __name__)

_STATIC = Path(__file__).parent / "static"


@web.get("/push-sw.js")
@public
def service_worker() -> Response:
    response = send_from_directory(_STATIC, "push-sw.js", mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.cache_control.no_cache = True  # a new worker reaches browsers at once
    return response


@web.get("/push-subscribe.js")
@public
def subscribe_script() -> Response:
    return send_from_directory(_STATIC, "push-subscribe.js", mimetype="text/javascript")
