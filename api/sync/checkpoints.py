"""Scope checkpoints (PROTOCOL.md § 11.3, § 11.4), computed once per scope version.

A scope's checksum and row count change only when a change is recorded in the
scope: every write to a row a scope holds is captured as an upsert in that
scope (:mod:`api.sync.capture`), and membership only changes with a logged
upsert or tombstone. So the checkpoint is a function of the scope's last change
number, and each worker process keeps the checkpoints it has computed, keyed by
``(tenant, scope, last change)``. A no-op pull then costs one indexed lookup of
the scope's last change instead of materialising every row of the scope.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.sync.models import SyncScopeChange

CACHE_SIZE = 20_000  # scopes per worker; one entry is ~200 bytes


@dataclass(frozen=True)
class ScopeSummary:
    checksum: str
    count: int


class CheckpointCache:
    """A bounded LRU of scope summaries by scope version; safe across threads."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[uuid.UUID, str, int], ScopeSummary] = OrderedDict()
        self._lock = threading.Lock()

    def summary(
        self,
        session: Session,
        tenant_id: uuid.UUID,
        scope: str,
        compute: Callable[[], ScopeSummary],
    ) -> ScopeSummary:
        key = (tenant_id, scope, last_change(session, tenant_id, scope))
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        summary = compute()  # outside the lock: other scopes need not wait
        with self._lock:
            self._entries[key] = summary
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return summary


def last_change(session: Session, tenant_id: uuid.UUID, scope: str) -> int:
    """The scope's latest change number in this snapshot (0 before its first)."""
    query = select(func.max(SyncScopeChange.change_seq)).where(
        SyncScopeChange.tenant_id == tenant_id, SyncScopeChange.scope == scope
    )
    return session.scalar(query) or 0


CACHE = CheckpointCache()
