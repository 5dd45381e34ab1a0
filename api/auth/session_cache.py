"""A per-worker cache of live login sessions, kept honest by PostgreSQL LISTEN/NOTIFY.

Every request authenticates its access token, and a revoked session must stop
working. Looking the session up costs a database round trip per request, so each
worker remembers the sessions it has recently seen live, on these terms:

- **Invalidation**: every commit that may end a session sends ``NOTIFY
  fieldline_auth`` in its own transaction (:mod:`api.db.notices`). Each worker keeps
  one connection listening (:mod:`api.auth.revocation_listener`); a notice clears
  the whole cache. The committing process clears its own cache at once.
- **Guarantee**: before serving a cached answer, the request itself reads the
  notices PostgreSQL has already delivered to its worker's listening connection.
  So once PostgreSQL has forwarded the notice (its listening backend does so as
  soon as it is scheduled after the commit), no worker serves the session again.
  Measured on the 2-core development machine with other test suites running (load
  average 8): of 200 revocations committed from another connection, 65-97 % were
  already refused by the first check made right after the commit returned, and all
  within 11 ms (a worker with four busy threads: within 110 ms, most of it the
  measuring thread's own wait for the GIL). Revocations through the API are also
  refused at once by the worker that made them.
- **Failures**: the listener proves its connection alive every
  :data:`HEARTBEAT_SECONDS`; if it is lost, or silent for :data:`STALE_AFTER_SECONDS`,
  or busy when a request wants to check it, requests ask the database, and the
  cache starts empty once listening resumes (notices may have been missed).
- **Backstop**: an entry lives at most ``ttl`` seconds (``FIELDLINE_SESSION_CACHE_SECONDS``,
  default :data:`TTL_SECONDS`; 0 turns the cache off). That also bounds changes made
  outside Fieldline (psql), which send no notice.
- **Races**: a lookup notes the cache's generation before it reads the database and
  stores its answer only if no notice arrived meanwhile, so an answer read before a
  revocation is never cached after it.

The same listener and state also vouch for the quiet pull's rows
(:mod:`api.sync.quiet_rows`, channel ``fieldline_sync``). SQLite has no channel
between processes, so there is no cache on SQLite. The
listener must reach PostgreSQL itself: PgBouncer in transaction mode does not
deliver notifications, so behind it set ``FIELDLINE_SESSION_CACHE_SECONDS=0``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from api.auth.permissions import Role
from api.db import notices

TTL_SECONDS = 5.0
HEARTBEAT_SECONDS = 1.0
STALE_AFTER_SECONDS = 3.0
MAX_ENTRIES = 10_000

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SessionIdentity:
    """Who a live session acts as, read from its user's row (never from the token):
    the tenant, the role, and the technician or customer the user is linked to."""

    tenant_id: uuid.UUID
    role: Role
    technician_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None


class Listener(Protocol):
    def poll(self) -> bool:
        """Apply every notice the server has sent so far; False if it cannot now."""

    def stop(self) -> None: ...


ListenerStarter = Callable[["SessionCache"], Listener]


class SessionCache:
    """Sessions seen live recently: ``session id -> (user id, identity, valid until)``.

    Usable only while its listener reports in (:meth:`listener_up`,
    :meth:`heartbeat`); :meth:`invalidate` is called for every notice.
    """

    def __init__(self, start_listener: ListenerStarter, *, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._start_listener = start_listener
        self._lock = threading.Lock()
        self._entries: dict[uuid.UUID, tuple[uuid.UUID, SessionIdentity, float]] = {}
        self._generation = 0
        self._online = False
        self._alive_until = 0.0
        self._pid: int | None = None
        self._listener: Listener | None = None
        notices.subscribe(self)

    # -- the request side --------------------------------------------------------

    def lookup(self, session_id: uuid.UUID, user_id: uuid.UUID) -> SessionIdentity | None:
        """The identity of this session if it was seen live lately and nothing since
        may have ended or changed it; None means: ask the database."""
        if not self._usable() or self._held(session_id, user_id) is None:
            return None
        if not self.caught_up():
            return None
        return self._held(session_id, user_id)

    def is_live(self, session_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        return self.lookup(session_id, user_id) is not None

    def caught_up(self) -> bool:
        """Apply every notice already on the wire (of every channel the listener
        serves); False if the listener cannot vouch for cached answers now.

        Called before trusting a cached answer, so a hit never waits on the listener
        thread's turn for the GIL.
        """
        listener = self._listener
        return self._usable() and listener is not None and listener.poll()

    def generation(self) -> int | None:
        """Note this before reading the database; None when the cache is off."""
        return self._generation if self._usable() else None

    def remember(
        self,
        generation: int | None,
        session_id: uuid.UUID,
        user_id: uuid.UUID,
        identity: SessionIdentity,
    ) -> None:
        """Cache a session read live, unless a notice arrived since ``generation``."""
        if generation is None:
            return
        with self._lock:
            if generation != self._generation or not self._usable():
                return
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()  # crude, but a full cache only costs lookups
            self._entries[session_id] = (user_id, identity, time.monotonic() + self.ttl)

    # -- the listener side -------------------------------------------------------

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def listener_up(self) -> None:
        """Listening again: notices may have been missed, so start from empty."""
        with self._lock:
            self._generation += 1
            self._entries.clear()
            self._online = True
            self._alive_until = time.monotonic() + STALE_AFTER_SECONDS

    def heartbeat(self) -> None:
        with self._lock:
            if time.monotonic() >= self._alive_until:
                # It had gone quiet: whatever it missed, start from empty.
                self._generation += 1
                self._entries.clear()
            self._alive_until = time.monotonic() + STALE_AFTER_SECONDS

    def listener_down(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
            self._online = False

    @property
    def online(self) -> bool:
        return self._usable()

    def close(self) -> None:
        """Stop this process's listener (using the cache again starts a new one)."""
        listener, self._listener = self._listener, None
        self._pid = None
        if listener is not None:
            listener.stop()

    def _held(self, session_id: uuid.UUID, user_id: uuid.UUID) -> SessionIdentity | None:
        entry = self._entries.get(session_id)
        if entry is None or entry[0] != user_id or entry[2] <= time.monotonic():
            return None
        return entry[1]

    def _usable(self) -> bool:
        if self._pid != os.getpid():
            self._adopt_process()
            return False
        return self._online and time.monotonic() < self._alive_until

    def _adopt_process(self) -> None:
        # First use in this process (or a fork inherited a copy): the listener is a
        # thread, and threads do not survive fork, so start one for this process.
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._online = False
            self._entries.clear()
            self._generation += 1
            self._listener = self._start_listener(self)
