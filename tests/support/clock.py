"""A clock a test moves by hand, for rules that depend on elapsed time (no sleeps)."""

from __future__ import annotations

from datetime import datetime, timedelta

from api.db import utcnow


class ManualClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
