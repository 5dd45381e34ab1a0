"""Change notices: every process learns when a commit may have changed what it caches.

Workers cache two things that other processes' commits can make wrong:

- ``fieldline_auth``: "this login session is live, as this tenant, role,
  technician or customer" (:mod:`api.auth.session_cache`). Sound only if every
  transaction that can end a session or change what it acts as (revoking it,
  deactivating, re-roling or deleting its user, relinking its technician or
  contact, deleting its tenant) tells every worker.
- ``fieldline_sync``: what a device's quiet pull read last (:mod:`api.sync.quiet_rows`):
  the change counter, the device's row, the compaction floors. Any write to them
  (a new change, a device registered, retired or its health recorded) tells.

On PostgreSQL, :func:`install` watches the statements each connection of an engine
runs; when a transaction has written to a channel's :data:`WATCHED_TABLES`,
``NOTIFY <channel>`` is sent inside that transaction just before it commits.
PostgreSQL delivers the notice only if the commit succeeds, to every listening
connection of every process; this process's caches are cleared at once, without
waiting for the round trip.

Detection reads the SQL text, so ORM flushes, Core statements and raw SQL run
through any engine from :func:`api.db.make_engine` are all seen. Writes from
outside Fieldline (psql, another program) are not: the cache's TTL bounds those.
A false alarm (a watched table written for another reason, a rolled-back
savepoint) only costs the caches a refill.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import Engine, event

AUTH_CHANNEL = "fieldline_auth"
SYNC_CHANNEL = "fieldline_sync"
CHANNELS = (AUTH_CHANNEL, SYNC_CHANNEL)
WATCHED_TABLES = {
    AUTH_CHANNEL: ("auth_sessions", "users", "tenants", "technicians", "contacts"),
    SYNC_CHANNEL: ("sync_counter", "sync_scope_changes", "sync_scope_floors", "sync_devices"),
}
# A plain INSERT cannot end a session, but a new device row changes a quiet pull.
_PLAIN_INSERTS = {AUTH_CHANNEL: False, SYNC_CHANNEL: True}

# The table a plain UPDATE, DELETE or INSERT writes to. Only that table's rows can
# change (Fieldline has no triggers), so this is all that has to be read of a long
# statement (a bulk INSERT can be 100 kB).
_TARGET = re.compile(
    r'\s*(?:UPDATE|DELETE\s+FROM|(INSERT)\s+INTO)\s+(?:ONLY\s+)?(?:"?\w+"?\.)?"?(\w+)', re.I
)
_UPSERT = re.compile(r"\bON\s+CONFLICT\b", re.I)
# Statements that may write to tables named anywhere in them.
_OTHER_WRITE = re.compile(r"\s*(?:TRUNCATE|MERGE|WITH)\b", re.I)
_NAMED = {
    channel: re.compile(r"\b(?:" + "|".join(tables) + r")\b", re.I)
    for channel, tables in WATCHED_TABLES.items()
}
_CHANNEL_OF = {table: channel for channel, tables in WATCHED_TABLES.items() for table in tables}
_PENDING = "fieldline_notices_due"  # key in the pooled connection's info dict


class Invalidates(Protocol):
    def invalidate(self) -> None: ...


# Caches living in this process, per channel; weak so an app that is gone is not kept alive.
_subscribers: dict[str, weakref.WeakSet[Any]] = {channel: weakref.WeakSet() for channel in CHANNELS}


def subscribe(cache: Invalidates, channel: str = AUTH_CHANNEL) -> None:
    """Have ``cache.invalidate()`` called whenever this process commits a change
    of ``channel``'s tables."""
    _subscribers[channel].add(cache)


def invalidate_local(channel: str | None = None) -> None:
    """Invalidate this process's caches of ``channel`` (of every channel if None)."""
    for name in CHANNELS if channel is None else (channel,):
        for cache in list(_subscribers[name]):
            cache.invalidate()


def channels_touched(statement: str) -> tuple[str, ...]:
    """The channels whose cached state the SQL statement may change."""
    target = _TARGET.match(statement)
    if target is not None:
        channel = _CHANNEL_OF.get(target.group(2).lower())
        if channel is None:
            return ()
        plain_insert = target.group(1) is not None and _UPSERT.search(statement) is None
        return () if plain_insert and not _PLAIN_INSERTS[channel] else (channel,)
    if _OTHER_WRITE.match(statement) is None:
        return ()
    return tuple(channel for channel in CHANNELS if _NAMED[channel].search(statement))


class Generation:
    """How many notices of one channel this process has applied: a cache notes the
    number before it reads the database and trusts what it read only while the
    number is the same (bumped by the listening thread and by local commits)."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._lock = threading.Lock()
        self._value = 0
        subscribe(self, channel)

    @property
    def value(self) -> int:
        return self._value

    def invalidate(self) -> None:
        with self._lock:
            self._value += 1


def install(engine: Engine) -> None:
    """Send :data:`AUTH_CHANNEL` notices from this (PostgreSQL) engine's commits."""
    event.listen(engine, "after_cursor_execute", _after_cursor_execute)
    event.listen(engine, "commit", _before_commit)
    event.listen(engine, "rollback", _after_rollback)


def _after_cursor_execute(
    conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
) -> None:
    channels = channels_touched(statement)
    if not channels:
        return
    dbapi_connection = conn.connection.dbapi_connection
    if getattr(dbapi_connection, "autocommit", False):
        # Already committed: there is no later commit to attach the notice to.
        _send(dbapi_connection, channels)
    else:
        conn.info.setdefault(_PENDING, set()).update(channels)


def _before_commit(conn: Any) -> None:
    # SQLAlchemy fires this just before the DBAPI commit, so the NOTIFY is part of
    # the transaction: sent if and only if the change is.
    if conn.invalidated:
        return
    channels = conn.info.pop(_PENDING, None)
    if channels:
        _send(conn.connection.dbapi_connection, sorted(channels))


def _send(dbapi_connection: Any, channels: Iterable[str]) -> None:
    for channel in channels:
        _notify(dbapi_connection, channel)
        invalidate_local(channel)


def _after_rollback(conn: Any) -> None:
    # An invalidated connection (server gone) has no info to clear, and touching it
    # would try to reconnect in the middle of the rollback.
    if not conn.invalidated:
        conn.info.pop(_PENDING, None)


def _notify(dbapi_connection: Any, channel: str) -> None:
    # A cursor of its own: the statement's cursor still holds its result (rowcount).
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"NOTIFY {channel}")
    finally:
        cursor.close()
