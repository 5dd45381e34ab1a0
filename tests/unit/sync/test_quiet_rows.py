"""The worker's memory of quiet-pull rows: what it may serve, and when it must forget."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from api.auth.session_cache import SessionCache
from api.db import notices
from api.db.notices import AUTH_CHANNEL, SYNC_CHANNEL, Generation
from api.sync.quiet_rows import QuietRows
from tests.unit.conftest import Clock, FakeListener

KEY = (uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), ("taxonomy",))
ROW = (42, None, uuid.uuid4())


@pytest.fixture
def sessions(clock: Clock, listener: FakeListener) -> Iterator[SessionCache]:
    cache = SessionCache(listener, ttl=5.0)
    cache.generation()  # first use starts the listener
    cache.listener_up()
    yield cache
    cache.close()


@pytest.fixture
def rows(sessions: SessionCache) -> QuietRows:
    return QuietRows(sessions, Generation(SYNC_CHANNEL))


def keep(rows: QuietRows) -> None:
    rows.put(rows.stamp(), KEY, ROW)


def test_a_row_read_is_served_until_the_ttl(
    rows: QuietRows, sessions: SessionCache, clock: Clock
) -> None:
    keep(rows)
    assert rows.get(KEY) == ROW
    assert rows.get((*KEY[:3], ("taxonomy", "technician:x"))) is None  # other scopes: other row
    for _ in range(49):
        clock.now += 0.1
        sessions.heartbeat()  # the listener reports in
    assert rows.get(KEY) == ROW
    clock.now += 0.2
    sessions.heartbeat()
    assert rows.get(KEY) is None


def test_a_listener_that_stops_reporting_in_ends_it(rows: QuietRows, clock: Clock) -> None:
    keep(rows)
    clock.now += 3.1  # no heartbeat for longer than STALE_AFTER_SECONDS
    assert rows.get(KEY) is None


@pytest.mark.parametrize("channel", [SYNC_CHANNEL, AUTH_CHANNEL])
def test_a_commit_in_this_process_on_either_channel_forgets_it(
    rows: QuietRows, channel: str
) -> None:
    keep(rows)
    notices.invalidate_local(channel)
    assert rows.get(KEY) is None


def test_a_notice_from_the_listener_forgets_it(rows: QuietRows) -> None:
    keep(rows)
    rows.generation.invalidate()  # what the listener does on fieldline_sync
    assert rows.get(KEY) is None


def test_a_notice_during_the_read_keeps_the_row_out(rows: QuietRows) -> None:
    stamp = rows.stamp()
    rows.generation.invalidate()  # a change committed while the row was being read
    rows.put(stamp, KEY, ROW)
    assert rows.get(KEY) is None
    keep(rows)  # read again, under the new generation
    assert rows.get(KEY) == ROW


def test_nothing_is_served_unless_notices_on_the_wire_could_be_applied_first(
    rows: QuietRows, listener: FakeListener
) -> None:
    keep(rows)
    listener.can_poll = False
    assert rows.get(KEY) is None
    listener.can_poll = True
    assert rows.get(KEY) == ROW


def test_nothing_is_kept_or_served_while_the_listener_is_down(
    rows: QuietRows, sessions: SessionCache
) -> None:
    keep(rows)
    sessions.listener_down()
    assert rows.stamp() is None
    assert rows.get(KEY) is None
    keep(rows)
    sessions.listener_up()
    assert rows.get(KEY) is None  # notices may have been missed while it was down
