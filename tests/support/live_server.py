"""The test app served over real HTTP in a thread (werkzeug), for browser tests that
arrange their scene through the factories and then look at it in Chromium."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer

from api.app import create_app
from api.config import Config

# Map tiles from a port where nothing listens: maps must do without them.
DEAD_TILES = "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"


_REQUEST_THREADS = 6


class _PooledServer(BaseWSGIServer):
    """Requests answered by a fixed pool of threads, as gunicorn's threads do. A thread
    per request (werkzeug's ``threaded=True``) would make each request thread keep a
    read connection of its own on PostgreSQL (``UnitOfWorkFactory.kept_read_connection``)
    until the pool ran dry after a dozen requests, which a page's script soon makes."""

    def __init__(self, app: Flask) -> None:
        super().__init__("127.0.0.1", 0, app)
        self.requests = ThreadPoolExecutor(_REQUEST_THREADS, thread_name_prefix="page-server")

    def process_request(self, request: Any, client_address: Any) -> None:
        self.requests.submit(self._answer, request, client_address)

    def _answer(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)


@contextmanager
def served(app: Flask) -> Iterator[str]:
    server = _PooledServer(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.requests.shutdown(wait=True, cancel_futures=True)
        thread.join()


@contextmanager
def pages_app(config: Config, **overrides: Any) -> Iterator[Flask]:
    """The app on the tests' database with the map tiles unreachable (and ``overrides``)."""
    app = create_app(replace(config, map_tiles_url=DEAD_TILES, **overrides))
    try:
        yield app
    finally:
        fieldline = app.extensions["fieldline"]
        if fieldline.session_cache is not None:
            fieldline.session_cache.close()
        fieldline.uow.dispose()
