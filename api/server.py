"""Running the app under gunicorn from Python, with the embedded worker beside it.

In embedded mode (SQLite, one machine) ``fieldline serve`` starts one outbox
worker process and the live stream server (``fieldline streams``, on the next
port) next to gunicorn and stops them on exit. At scale, set
``FIELDLINE_EMBEDDED_WORKER=false`` and run ``fieldline worker`` processes
separately (as many as you like: they share the queue safely).
"""

from __future__ import annotations

import gc
import subprocess
from typing import Any

from gunicorn.app.base import BaseApplication

from api.config import Config


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from api.app import create_app
        from api.observability import configure_logging

        config = Config.from_env()
        configure_logging(config.log_level)
        app = create_app(config)
        # What the app built at start-up lives as long as the worker: keep it out of
        # the cyclic collector's sweeps, which otherwise walk all of it again and again.
        gc.collect()
        gc.freeze()
        return app


def run_gunicorn(
    config: Config, *, bind: str, workers: int, threads: int, streams_bind: str | None = None
) -> None:
    worker_process: list[subprocess.Popen[Any]] = []

    def on_starting(_server: Any) -> None:
        if config.embedded_worker:
            from api.cli import spawn_worker

            worker_process.append(spawn_worker())
        if streams_bind is not None:
            from api.cli import spawn_streams

            worker_process.append(spawn_streams(streams_bind))

    def on_exit(_server: Any) -> None:
        for process in worker_process:
            process.terminate()
            process.wait(timeout=10)

    _Gunicorn(
        {
            "bind": bind,
            "workers": workers,
            "worker_class": "api.http.refusals.ProblemWorker",
            # gunicorn's gthread worker, answering its own refusals (a 20 KB URL, a
            # control byte in a header) as problem+json (api/http/refusals.py).
            # gthread: keep-alive connections wait in the worker's poller, not in a
            # thread. One thread by default: a second one in the same interpreter
            # costs every request GIL hand-offs (docs/deploy.md, "Workers and threads").
            "threads": threads,
            "accesslog": None,
            "timeout": 60,
            "graceful_timeout": 10,
            "on_starting": on_starting,
            "on_exit": on_exit,
            "preload_app": False,
            # One machine may run several servers (tests, blue/green): no shared control socket.
            "control_socket_disable": True,
        }
    ).run()
