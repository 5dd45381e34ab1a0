"""A per-worker memory of the quiet pull's row, kept honest by PostgreSQL LISTEN/NOTIFY.

A device polls "anything new?" every few seconds, and the answer is nearly always
"no". :mod:`api.sync.noop` decides it from one row (the device's binding and row,
the change counter, each scope's last change and floor), and reading that row
was the quiet pull's one database round trip: more than a third of its cost. Each
worker keeps the rows it read lately and reuses one while nothing it depends on
can have changed. The decision itself is still made afresh on every request.

- **Invalidation**: every commit that writes the change counter, the change log,
  a compaction floor or a device row sends ``NOTIFY fieldline_sync``
  (:mod:`api.db.notices`); the worker's listening connection (the one that keeps
  the session cache honest) bumps :attr:`generation`, and so does the committing
  process at once. A row is reused only while that generation, and the session
  cache's (listener up, no missed notices, no auth notice), is the one it was
  read under.
- **Freshness**: before reusing a row, the request applies every notice already
  delivered to its worker (:meth:`~api.auth.session_cache.SessionCache.caught_up`).
  A change committed by another worker is therefore seen as soon as PostgreSQL
  has forwarded its notice, normally within a millisecond of the commit (see
  the measurements in :mod:`api.auth.session_cache`); until then a poll may hear
  "nothing new" with the cursor it had, and the next poll brings the change. A
  quiet answer is always a whole, consistent one: cursor, counts and checksums of
  the same moment. A pull sent with ``Cache-Control: no-cache`` (the SDK's, right
  after its own push) never uses the memory (:mod:`api.sync.routes`).
- **Backstop**: a row lives at most the session cache's ``ttl``
  (``FIELDLINE_SESSION_CACHE_SECONDS``; 0 turns both off), which also bounds writes
  made outside Fieldline. Rows are read under a noted generation and kept only if
  no notice arrived during the read.

Only where the session cache runs (PostgreSQL, ``ttl`` > 0).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

from api.auth.session_cache import SessionCache
from api.db.notices import SYNC_CHANNEL, Generation

MAX_ENTRIES = 10_000

# tenant, device, login session, scopes
Key = tuple[uuid.UUID, uuid.UUID, uuid.UUID | None, tuple[str, ...]]
Stamp = tuple[int, int]


class QuietRows:
    """``generation``: of :data:`~api.db.notices.SYNC_CHANNEL`, bumped by the listener
    that also serves ``sessions``."""

    def __init__(self, sessions: SessionCache, generation: Generation) -> None:
        assert generation.channel == SYNC_CHANNEL
        self._sessions = sessions
        self.generation = generation
        self._lock = threading.Lock()
        self._entries: dict[Key, tuple[Stamp, Sequence[Any], float]] = {}

    def stamp(self) -> Stamp | None:
        """Note this before reading the row; None when rows cannot be kept now."""
        sessions = self._sessions.generation()
        return None if sessions is None else (sessions, self.generation.value)

    def get(self, key: Key) -> Sequence[Any] | None:
        """The row read for ``key`` if nothing it depends on can have changed since."""
        entry = self._entries.get(key)
        if entry is None or not self._sessions.caught_up():
            return None
        stamp, row, until = entry
        if stamp != self.stamp() or time.monotonic() >= until:
            return None
        return row

    def put(self, stamp: Stamp | None, key: Key, row: Sequence[Any]) -> None:
        """Keep a row read under ``stamp``, unless a notice arrived meanwhile."""
        if stamp is None:
            return
        with self._lock:
            if stamp != self.stamp():
                return
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()  # crude, but a full memory only costs reads
            self._entries[key] = (stamp, row, time.monotonic() + self._sessions.ttl)
