"""Where committed events come from: one feed per stream process.

- :class:`PostgresFeed`: one dedicated autocommit connection (never from a pool)
  that has run ``LISTEN fieldline_live`` and ``LISTEN fieldline_auth``. Every
  :data:`HEARTBEAT_SECONDS` without a notice it proves itself alive with
  ``SELECT 1``; TCP keepalives catch a silent peer. When the connection is lost
  it reconnects (backing off to :data:`MAX_RETRY_SECONDS`) and, once listening
  again, tells the hub to :meth:`~api.live.stream.hub.Hub.resync`: notices sent
  while nobody listened are gone for good.
- :class:`SqliteFeed`: the relay's datagram socket beside the database file, plus
  a direct sink for commits made in this very process (:mod:`api.live.relay`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import URL

from api.db.notices import AUTH_CHANNEL
from api.live import relay
from api.live.capture import CHANNEL
from api.live.events import LiveEvent, decode
from api.live.stream.hub import Hub

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
MAX_RETRY_SECONDS = 5.0
APPLICATION_NAME = "fieldline-live-listener"


class PostgresFeed:
    def __init__(self, url: URL, hub: Hub, on_auth_change: Callable[[], None]) -> None:
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._hub = hub
        self._on_auth_change = on_auth_change
        self.up = False
        self.reconnects = 0

    async def run(self) -> None:
        delay = 0.2
        lost = False
        while True:
            try:
                connection = await psycopg.AsyncConnection.connect(
                    self._conninfo,
                    autocommit=True,
                    connect_timeout=5,
                    application_name=APPLICATION_NAME,
                    keepalives=1,
                    keepalives_idle=5,
                    keepalives_interval=1,
                    keepalives_count=3,
                )
                async with connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    await connection.execute(f"LISTEN {AUTH_CHANNEL}")
                    self.up, delay = True, 0.2
                    if lost:
                        self.reconnects += 1
                        log.info("live feed listening again; streams told to re-sync")
                        self._hub.resync("feed_reconnected")
                        self._on_auth_change()
                    await self._listen(connection)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure: reconnect and re-sync
                if self.up or not lost:
                    log.warning("live feed lost its database connection: %s", exc)
            self.up, lost = False, True
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_SECONDS)

    async def _listen(self, connection: psycopg.AsyncConnection[Any]) -> None:
        while True:
            async for notice in connection.notifies(timeout=HEARTBEAT_SECONDS):
                if notice.channel == CHANNEL:
                    self._hub.publish(decode(notice.payload))
                elif notice.channel == AUTH_CHANNEL:
                    self._on_auth_change()
            await connection.execute("SELECT 1")


class SqliteFeed:
    def __init__(self, database: str, hub: Hub) -> None:
        self._database = database
        self._hub = hub
        self._path = relay.socket_path(database)
        self._transport: asyncio.DatagramTransport | None = None
        self.up = False

    async def run(self) -> None:
        loop = asyncio.get_running_loop()

        def deliver(events: list[LiveEvent]) -> None:  # from a writer's thread
            loop.call_soon_threadsafe(self._hub.publish, events)

        relay.register(self._database, deliver)
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()  # a previous server's; only one may serve a database
        hub = self._hub

        class _Protocol(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, _addr: Any) -> None:
                hub.publish(decode(data))

        transport, _ = await loop.create_datagram_endpoint(
            _Protocol, local_addr=str(self._path), family=socket.AF_UNIX
        )
        self._transport = transport
        self.up = True
        try:
            await asyncio.Event().wait()  # until cancelled
        finally:
            self.up = False
            transport.close()
            relay.unregister(self._database)
            with contextlib.suppress(FileNotFoundError):
                Path(self._path).unlink()
