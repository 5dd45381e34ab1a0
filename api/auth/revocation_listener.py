"""The connection that keeps a worker's caches in step with PostgreSQL.

One per worker process: a dedicated autocommit connection (not from the pool) that
has run ``LISTEN fieldline_auth`` (the :class:`SessionCache`) and ``LISTEN`` on the
channel of every other cache given (the quiet pull's rows listen on
``fieldline_sync``). The session cache's state (up, down, heartbeat) stands for
the connection's, for every channel. Notices are applied in two places:

- by the **request** about to trust a cached session (:meth:`poll`): it reads
  whatever the server has already sent on that socket (non-blocking, a few
  microseconds) and clears the cache if a notice is there. A cached answer thus
  never waits for this thread's turn for the GIL (tens of milliseconds under
  load); if the connection is busy for longer than :data:`POLL_WAIT_SECONDS`,
  the request asks the database instead;
- by this **thread**, which every :data:`HEARTBEAT_SECONDS` drains the socket and
  proves the connection alive with ``SELECT 1``.

Any error marks the cache down (requests then check the database) and reconnects
after a short pause; the cache is cleared again once listening resumes.
"""

from __future__ import annotations

import logging
import select
import threading
from collections.abc import Mapping
from typing import Any

import psycopg
from sqlalchemy.engine import URL

from api.auth.session_cache import HEARTBEAT_SECONDS, ListenerStarter, SessionCache
from api.db.notices import AUTH_CHANNEL, Invalidates

log = logging.getLogger(__name__)

RETRY_SECONDS = 0.5
# How long a request waits for the connection (busy with a heartbeat, or with another
# request's poll whose thread is waiting for the GIL) before it gives up on the cache
# and asks the database instead.
POLL_WAIT_SECONDS = 0.05


class RevocationListener(threading.Thread):
    def __init__(
        self, url: URL, cache: SessionCache, others: Mapping[str, Invalidates] | None = None
    ) -> None:
        super().__init__(name="fieldline-revocation-listener", daemon=True)
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._cache = cache
        self._targets: dict[str, Invalidates] = {AUTH_CHANNEL: cache, **(others or {})}
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # one thread at a time on the connection
        self._connection: psycopg.Connection[Any] | None = None

    def stop(self) -> None:
        self._stopping.set()

    def poll(self) -> bool:
        """Apply every notice received so far; False if that cannot be done now."""
        if not self._lock.acquire(timeout=POLL_WAIT_SECONDS):
            return False
        try:
            if self._connection is None:
                return False
            self._drain(self._connection)
            return True
        except Exception:  # the connection broke: the thread will notice and reconnect
            self._cache.listener_down()
            return False
        finally:
            self._lock.release()

    def run(self) -> None:
        reported = False
        while not self._stopping.is_set():
            try:
                with self._connect() as connection:
                    try:
                        self._listen(connection, reported)
                        reported = False
                    finally:
                        with self._lock:  # no request may use it once it closes
                            self._connection = None
                            self._cache.listener_down()
            except Exception as exc:  # any failure: stop trusting the cache, retry
                self._cache.listener_down()
                if not reported and not self._stopping.is_set():
                    log.warning("revocation listener lost its connection: %s", exc)
                    reported = True
            self._stopping.wait(RETRY_SECONDS)

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            self._conninfo,
            autocommit=True,
            connect_timeout=5,
            application_name="fieldline-revocation-listener",
            # A dead peer also shows as a silent heartbeat; keepalives make the
            # socket itself fail within seconds.
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=1,
            keepalives_count=3,
        )

    def _listen(self, connection: psycopg.Connection[Any], reported: bool) -> None:
        # Notices psycopg reads while it runs a statement (the heartbeat) land here.
        connection.add_notify_handler(lambda notice: self._apply(notice.channel))
        for channel in self._targets:
            connection.execute(f"LISTEN {channel}")
        with self._lock:
            self._connection = connection
            self._cache.listener_up()
        if reported:
            log.info("revocation listener reconnected")
        # Requests apply notices themselves (poll), so this thread only proves the
        # connection alive: it holds the lock once a second, for one round trip.
        while not self._stopping.wait(HEARTBEAT_SECONDS):
            with self._lock:
                self._drain(connection)
                connection.execute("SELECT 1")
                self._cache.heartbeat()

    def _drain(self, connection: psycopg.Connection[Any]) -> None:
        """Read what the server has sent without waiting; clear the cache on a notice."""
        pgconn = connection.pgconn
        readable, _, _ = select.select([pgconn.socket], [], [], 0)
        if not readable:
            return
        pgconn.consume_input()  # raises if the server has gone
        while (notice := pgconn.notifies()) is not None:
            self._apply(notice.relname.decode())

    def _apply(self, channel: str) -> None:
        target = self._targets.get(channel)
        if target is not None:
            target.invalidate()


def start_listener(url: URL, others: Mapping[str, Invalidates] | None = None) -> ListenerStarter:
    """A :data:`~api.auth.session_cache.ListenerStarter` for the database at ``url``,
    also applying the notices of ``others``' channels to them."""

    def start(cache: SessionCache) -> RevocationListener:
        listener = RevocationListener(url, cache, others)
        listener.start()
        return listener

    return start
