"""Starting the stream server: as its own process (``fieldline streams``) or on a thread.

The process is built from the same ``FIELDLINE_*`` configuration as the API: the
same database (its feed, and the checks of :mod:`api.live.access`), the same
secret (tickets), the same tracking rate limit. Its database pool is small: a
few threads for the checks, and one listening connection on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import signal
import threading
from collections.abc import Callable
from typing import Any

from aiohttp import web
from sqlalchemy.engine import make_url

from api.config import Config
from api.db import UnitOfWorkFactory, make_engine
from api.db.engine import make_read_engine
from api.http.ratelimit import RateLimiter, storage_for
from api.live.access import StreamAccess
from api.live.stream.app import Limits, StreamServer
from api.live.stream.feeds import PostgresFeed, SqliteFeed

log = logging.getLogger(__name__)

_POOL_SIZE = 4


def build(config: Config, limits: Limits | None = None) -> tuple[StreamServer, UnitOfWorkFactory]:
    engine = make_engine(config.database_url, pool_size=_POOL_SIZE)
    uows = UnitOfWorkFactory(engine, make_read_engine(engine, pool_size=_POOL_SIZE))
    limiter = RateLimiter(
        storage_for(config.ratelimit_storage_uri, engine), config.tracking_rate_limit, "tracking"
    )
    access = StreamAccess(
        uows, config.resolved_secret_key(), limiter, config.public_url, config.open_router()
    )
    limits = limits or Limits(
        per_session=config.live_streams_per_session, per_link=config.live_streams_per_link
    )
    return StreamServer(access, limits), uows


async def serve(
    config: Config,
    host: str,
    port: int,
    *,
    limits: Limits | None = None,
    started: Callable[[StreamServer, int], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until ``stop`` is set (or forever); ``started`` gets the bound port."""
    _raise_open_files_limit()
    server, uows = build(config, limits)
    url = make_url(config.database_url)
    if url.get_backend_name() == "postgresql":
        server.feed = PostgresFeed(url, server.hub, server.recheck_soon)
    else:
        server.feed = SqliteFeed(url.database or ":memory:", server.hub)
    runner = web.AppRunner(server.web_app(), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=4096, reuse_address=True)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    tasks = [
        asyncio.ensure_future(server.feed.run()),
        asyncio.ensure_future(server.background()),
    ]
    if started is not None:
        started(server, bound)
    log.info("live streams on %s:%s", host, bound)
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await runner.cleanup()
        await asyncio.to_thread(uows.dispose)


def run(config: Config, host: str, port: int) -> None:
    """``fieldline streams``: serve until SIGTERM or SIGINT, then close every stream and
    remove the relay socket."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(config, host, port, stop=stop)

    asyncio.run(main())


class ThreadedStreams:
    """The stream server on a thread of this process (tests, and an embedded server
    whose writers live in the same process): commits made here reach it directly."""

    def __init__(self, config: Config, host: str = "127.0.0.1", port: int = 0, **kwargs: Any):
        self._config, self._host, self._port, self._kwargs = config, host, port, kwargs
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.server: StreamServer | None = None
        self.port = 0
        self._thread = threading.Thread(target=self._run, name="fieldline-streams", daemon=True)

    def start(self) -> ThreadedStreams:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the stream server did not start")
        return self

    def call(self, function: Callable[[], Any]) -> Any:
        """Run ``function`` on the server's loop and return its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(_call(function), self._loop).result(10)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()

            def started(server: StreamServer, port: int) -> None:
                self.server, self.port = server, port
                self._ready.set()

            await serve(
                self._config,
                self._host,
                self._port,
                started=started,
                stop=self._stop,
                **self._kwargs,
            )

        asyncio.run(main())


async def _call(function: Callable[[], Any]) -> Any:
    return function()


def _raise_open_files_limit() -> None:
    """Each stream is a socket: take the most descriptors the system allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
