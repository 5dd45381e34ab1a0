"""Rate limits (login attempts) using the ``limits`` library's moving window.

Storage is in-process by default; with several gunicorn workers or hosts set
``FIELDLINE_RATELIMIT_STORAGE_URI`` to a shared store (``redis://...``).
"""

from __future__ import annotations

import math
import time

from limits import parse, storage, strategies

from api.errors.common import RateLimited


class RateLimiter:
    def __init__(self, storage_uri: str, limit: str) -> None:
        self._strategy = strategies.MovingWindowRateLimiter(
            storage.storage_from_string(storage_uri)
        )
        self._limit = parse(limit)

    def hit(self, *identifiers: str) -> None:
        """Count one attempt for each identifier; 429 if any is over its limit."""
        for identifier in identifiers:
            if not self._strategy.hit(self._limit, "login", identifier):
                reset_at, _ = self._strategy.get_window_stats(self._limit, "login", identifier)
                retry_after = max(1, math.ceil(reset_at - time.time()))
                raise RateLimited(headers={"Retry-After": str(retry_after)})
