"""Auth change notices: every process learns when a commit may have ended a session.

Workers cache "this login session is live" (:mod:`api.auth.session_cache`). That
is only sound if every transaction that can end a session (revoking it, deactivating
or deleting its user, deleting its tenant) tells every worker. On PostgreSQL,
:func:`install` watches the statements each connection of an engine runs; when a
transaction has written to one of :data:`WATCHED_TABLES`, ``NOTIFY fieldline_auth``
is sent inside that transaction just before it commits. PostgreSQL delivers the
notice only if the commit succeeds, to every listening connection of every process;
this process's caches are cleared at once, without waiting for the round trip.

Detection reads the SQL text, so ORM flushes, Core statements and raw SQL run
through any engine from :func:`api.db.make_engine` are all seen. Writes from
outside Fieldline (psql, another program) are not: the cache's TTL bounds those.
A false alarm (a watched table written for another reason, a rolled-back
savepoint) only costs the caches a refill.
"""

from __future__ import annotations

import re
import weakref
from typing import Any, Protocol

from sqlalchemy import Engine, event

AUTH_CHANNEL = "fieldline_auth"
WATCHED_TABLES = ("auth_sessions", "users", "tenants")

# The table a plain UPDATE, DELETE or INSERT writes to. Only that table's rows can
# change (Fieldline has no triggers), so this is all that has to be read of a long
# statement (a bulk INSERT can be 100 kB). A plain INSERT cannot end a session; an
# upsert can.
_TARGET = re.compile(
    r'\s*(?:UPDATE|DELETE\s+FROM|(INSERT)\s+INTO)\s+(?:ONLY\s+)?(?:"?\w+"?\.)?"?(\w+)', re.I
)
_UPSERT = re.compile(r"\bON\s+CONFLICT\b", re.I)
# Statements that may write to tables named anywhere in them.
_OTHER_WRITE = re.compile(r"\s*(?:TRUNCATE|MERGE|WITH)\b", re.I)
_WATCHED = re.compile(r"\b(?:" + "|".join(WATCHED_TABLES) + r")\b", re.I)
_PENDING = "fieldline_auth_changed"  # key in the pooled connection's info dict


class Invalidates(Protocol):
    def invalidate(self) -> None: ...


# Caches living in this process; weak so an app that is gone is not kept alive.
_subscribers: weakref.WeakSet[Any] = weakref.WeakSet()


def subscribe(cache: Invalidates) -> None:
    """Have ``cache.invalidate()`` called whenever this process commits an auth change."""
    _subscribers.add(cache)


def invalidate_local() -> None:
    for cache in list(_subscribers):
        cache.invalidate()


def touches_auth_state(statement: str) -> bool:
    """True if the SQL statement may change a row session checks depend on."""
    target = _TARGET.match(statement)
    if target is not None:
        if target.group(2).lower() not in WATCHED_TABLES:
            return False
        return target.group(1) is None or _UPSERT.search(statement) is not None
    return _OTHER_WRITE.match(statement) is not None and _WATCHED.search(statement) is not None


def install(engine: Engine) -> None:
    """Send :data:`AUTH_CHANNEL` notices from this (PostgreSQL) engine's commits."""
    event.listen(engine, "after_cursor_execute", _after_cursor_execute)
    event.listen(engine, "commit", _before_commit)
    event.listen(engine, "rollback", _after_rollback)


def _after_cursor_execute(
    conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
) -> None:
    if not touches_auth_state(statement):
        return
    dbapi_connection = conn.connection.dbapi_connection
    if getattr(dbapi_connection, "autocommit", False):
        # Already committed: there is no later commit to attach the notice to.
        _notify(dbapi_connection)
        invalidate_local()
    else:
        conn.info[_PENDING] = True


def _before_commit(conn: Any) -> None:
    # SQLAlchemy fires this just before the DBAPI commit, so the NOTIFY is part of
    # the transaction: sent if and only if the change is.
    if not conn.invalidated and conn.info.pop(_PENDING, False):
        _notify(conn.connection.dbapi_connection)
        invalidate_local()


def _after_rollback(conn: Any) -> None:
    # An invalidated connection (server gone) has no info to clear, and touching it
    # would try to reconnect in the middle of the rollback.
    if not conn.invalidated:
        conn.info.pop(_PENDING, None)


def _notify(dbapi_connection: Any) -> None:
    # A cursor of its own: the statement's cursor still holds its result (rowcount).
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"NOTIFY {AUTH_CHANNEL}")
    finally:
        cursor.close()
