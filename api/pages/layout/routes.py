"""``/assets/<hash>/<name>``: the pages' static files (see :mod:`api.pages.assets`)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from api.errors.common import RouteNotFound
from api.http.guard import public
from api.pages.assets import AssetCatalogue

web = Blueprint("page_assets", __name__)

_IMMUTABLE = "public, max-age=31536000, immutable"


@web.get("/assets/<digest>/<path:name>")
@public
def asset(digest: str, name: str) -> Response:
    catalogue: AssetCatalogue = current_app.extensions["fieldline_assets"]
    found = catalogue.find(digest, name)
    if found is None:
        raise RouteNotFound()
    gzipped = found.gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", "")
    response = Response(found.gzipped if gzipped else found.body, mimetype=found.mimetype)
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Cache-Control"] = _IMMUTABLE
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.vary.add("Accept-Encoding")
    return response
