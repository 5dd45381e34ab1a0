"""The per-worker session cache: what it may serve, and when it must forget."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from api.auth import session_cache
from api.auth.permissions import Role
from api.auth.session_cache import SessionCache, SessionIdentity
from api.db import notices
from tests.unit.conftest import Clock, FakeListener

SESSION, USER = uuid.uuid4(), uuid.uuid4()
IDENTITY = SessionIdentity(tenant_id=uuid.uuid4(), role=Role.DISPATCHER)


@pytest.fixture
def cache(clock: Clock, listener: FakeListener) -> Iterator[SessionCache]:
    cache = SessionCache(listener, ttl=5.0)
    assert cache.generation() is None  # first use starts the listener; not trusted yet
    cache.listener_up()
    yield cache
    cache.close()


def remember(cache: SessionCache) -> None:
    cache.remember(cache.generation(), SESSION, USER, IDENTITY)


def test_a_session_read_live_is_served_until_its_ttl(cache: SessionCache, clock: Clock) -> None:
    remember(cache)
    assert cache.lookup(SESSION, USER) == IDENTITY
    assert not cache.is_live(SESSION, uuid.uuid4())  # the token must name the same user
    clock.now += 5.0
    assert not cache.is_live(SESSION, USER)


def test_a_notice_during_the_lookup_keeps_its_stale_answer_out(cache: SessionCache) -> None:
    before = cache.generation()  # a request notes the generation, then reads the database
    cache.invalidate()  # meanwhile a revocation commits and its notice arrives
    cache.remember(before, SESSION, USER, IDENTITY)  # read before it: must not be kept
    assert not cache.is_live(SESSION, USER)


def test_a_commit_in_this_process_that_touches_sessions_clears_it(cache: SessionCache) -> None:
    remember(cache)
    notices.invalidate_local()
    assert not cache.is_live(SESSION, USER)


def test_nothing_is_served_or_kept_while_the_listener_is_down(
    cache: SessionCache, clock: Clock
) -> None:
    remember(cache)
    cache.listener_down()
    assert not cache.is_live(SESSION, USER)
    assert cache.generation() is None
    remember(cache)
    cache.listener_up()  # back, but whatever it missed meanwhile is forgotten
    assert not cache.is_live(SESSION, USER)


def test_a_listener_that_stops_reporting_in_turns_the_cache_off(
    cache: SessionCache, clock: Clock
) -> None:
    remember(cache)
    clock.now += session_cache.STALE_AFTER_SECONDS - 0.5
    cache.heartbeat()
    assert cache.is_live(SESSION, USER)
    clock.now += session_cache.STALE_AFTER_SECONDS
    assert not cache.is_live(SESSION, USER)  # silent too long: bypassed
    cache.heartbeat()  # it speaks again, but may have missed notices: start empty
    assert cache.online and not cache.is_live(SESSION, USER)


def test_a_hit_is_not_served_unless_notices_on_the_wire_could_be_applied_first(
    cache: SessionCache, listener: FakeListener
) -> None:
    remember(cache)
    listener.can_poll = False  # e.g. the connection is busy with a heartbeat
    assert not cache.is_live(SESSION, USER)
    listener.can_poll = True
    assert cache.is_live(SESSION, USER)
