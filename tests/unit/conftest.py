"""Fakes shared by the unit tests of the per-worker caches (sessions, quiet pull rows)."""

from __future__ import annotations

import pytest

from api.auth import session_cache
from api.auth.session_cache import SessionCache


class FakeListener:
    """Stands in for the listening connection: started, polled, stopped on demand."""

    def __init__(self) -> None:
        self.started = 0
        self.stopped = False
        self.can_poll = True

    def __call__(self, cache: SessionCache) -> FakeListener:
        self.started += 1
        return self

    def poll(self) -> bool:
        return self.can_poll

    def stop(self) -> None:
        self.stopped = True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """``time.monotonic`` under the test's control (one ``time`` module for every cache)."""
    clock = Clock()
    monkeypatch.setattr(session_cache.time, "monotonic", clock)
    return clock


@pytest.fixture
def listener() -> FakeListener:
    return FakeListener()
