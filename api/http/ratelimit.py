"""Rate limits (login attempts) using the ``limits`` library's fixed windows.

The counts live where ``FIELDLINE_RATELIMIT_STORAGE_URI`` says: ``database`` (the
default) counts in the application's database (:mod:`api.ratelimits.storage`),
so every gunicorn worker and every host shares one count with no other service;
``redis://...`` counts in Redis (the ``redis`` extra); ``memory://`` counts per
process, which only suits a single-process development server: under the default
2 workers it lets nearly twice the limit through.
"""

from __future__ import annotations

import math
import time

from limits import parse, storage, strategies
from sqlalchemy import Engine

from api.errors.common import RateLimited
from api.ratelimits.storage import DatabaseStorage

DATABASE_STORAGE = ("database", "database://")


def storage_for(uri: str, engine: Engine) -> storage.Storage:
    """The storage a ``FIELDLINE_RATELIMIT_STORAGE_URI`` names."""
    if uri.strip().lower() in DATABASE_STORAGE:
        return DatabaseStorage(engine)
    counts = storage.storage_from_string(uri)
    if not isinstance(counts, storage.Storage):  # an async storage (``async+redis://``)
        raise ValueError(f"FIELDLINE_RATELIMIT_STORAGE_URI={uri}: Fieldline needs a sync storage")
    return counts


def per_process_warning(uri: str, workers: int) -> str | None:
    """What ``fieldline serve`` says when each worker would count login attempts alone."""
    if workers > 1 and uri.strip().lower().startswith("memory"):
        return (
            f"FIELDLINE_RATELIMIT_STORAGE_URI={uri} with {workers} workers: each worker "
            f"counts login attempts alone, so up to {workers} times the login limit gets "
            "through. Use the default (database) or redis://."
        )
    return None


class RateLimiter:
    def __init__(self, counts: storage.Storage, limit: str, namespace: str = "login") -> None:
        # Fixed windows: the one strategy every storage offers alike, and one atomic
        # statement per hit in the database. A window opens at a key's first attempt.
        self._strategy = strategies.FixedWindowRateLimiter(counts)
        self._limit = parse(limit)
        self._namespace = namespace  # keeps the counts of one limit apart from another's

    def hit(self, *identifiers: str) -> None:
        """Count one attempt for each identifier; 429 if any is over its limit."""
        for identifier in identifiers:
            if not self._strategy.hit(self._limit, self._namespace, identifier):
                reset_at, _ = self._strategy.get_window_stats(
                    self._limit, self._namespace, identifier
                )
                retry_after = max(1, math.ceil(reset_at - time.time()))
                raise RateLimited(headers={"Retry-After": str(retry_after)})
