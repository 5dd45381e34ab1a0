"""The test app served over real HTTP in a thread (werkzeug), for browser tests that
arrange their scene through the factories and then look at it in Chromium."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from api.app import create_app
from api.config import Config

# Map tiles from a port where nothing listens: maps must do without them.
DEAD_TILES = "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"


@contextmanager
def served(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@contextmanager
def pages_app(config: Config, **overrides: Any) -> Iterator[Flask]:
    """The app on the tests' database with the map tiles unreachable (and ``overrides``)."""
    app = create_app(replace(config, map_tiles_url=DEAD_TILES, **overrides))
    try:
        yield app
    finally:
        app.extensions["fieldline"].uow.dispose()
