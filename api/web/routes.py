"""``/healthz`` (the process is up), ``/readyz``
(it can reach its database) and the Swagger UI assets, served from the
``swagger-ui-bundle`` package so the interactive docs at ``/docs`` work with no
internet access."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from flask import Blueprint, Response, jsonify, send_from_directory

from api.http.context import read_connection
from api.http.guard import public

web = Blueprint("web", __name__)

_SWAGGER_DIR = Path(swagger_ui_bundle.swagger_ui_path)
_SWAGGER_FILES = {
    "swagger-ui.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "favicon-32x32.png",
    "favicon-16x16.png",
}


@web.get("/healthz")
@public
def healthz() -> Response:
    return jsonify(status="ok")


@web.get("/readyz")
@public
def readyz() -> Response | tuple[Response, int]:
    # The request's read connection: on PostgreSQL the thread's kept one, in
    # autocommit, so a probe is one round trip (a broken one is replaced when the
    # request ends, and the next probe tries a fresh one).
    try:
        read_connection().exec_driver_sql("SELECT 1")
    except Exception:
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ready", database="ok")


@web.get("/docs/assets/<path:filename>")
@public
def docs_asset(filename: str) -> Response:
    if filename not in _SWAGGER_FILES:
        from api.errors.common import RouteNotFound

        raise RouteNotFound()
    response = send_from_directory(_SWAGGER_DIR, filename, max_age=86400)
    return response
