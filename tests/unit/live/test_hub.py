"""The hub's rules without a network: who gets an event, resuming, dropping the slow."""

from __future__ import annotations

import asyncio
import uuid

from api.live.access import ConsoleGrant
from api.live.events import LiveEvent
from api.live.stream.hub import ConsoleSubscriber, Hub, TrackingSubscriber


def _console(tenant: uuid.UUID, queue_size: int = 8) -> ConsoleSubscriber:
    return ConsoleSubscriber(ConsoleGrant(tenant, uuid.uuid4(), uuid.uuid4()), queue_size)


def _frames(subscriber: ConsoleSubscriber) -> list[bytes]:
    found = []
    while not subscriber.queue.empty():
        frame = subscriber.queue.get_nowait()
        assert frame is not None
        found.append(frame)
    return found


def test_an_event_goes_to_its_tenant_only() -> None:
    async def run() -> None:
        hub = Hub()
        a, b = uuid.uuid4(), uuid.uuid4()
        watcher_a, watcher_b = _console(a), _console(b)
        hub.add_console(watcher_a)
        hub.add_console(watcher_b)
        hub.publish([LiveEvent(a, "work_order", uuid.uuid4())])
        assert len(_frames(watcher_a)) == 1 and _frames(watcher_b) == []

    asyncio.run(run())


def test_a_resume_replays_the_tenants_events_or_asks_for_a_resync() -> None:
    async def run() -> None:
        hub = Hub(history=4)
        tenant, other = uuid.uuid4(), uuid.uuid4()
        hub.publish([LiveEvent(tenant, "work_order", uuid.uuid4())])
        seen = hub.last_id
        hub.publish([LiveEvent(other, "work_order", uuid.uuid4())])
        hub.publish([LiveEvent(tenant, "evidence", uuid.uuid4())])
        missed = hub.replay(tenant, seen)
        assert missed is not None and len(missed) == 1 and b"evidence" in missed[0]
        assert hub.replay(tenant, hub.last_id) == []
        assert hub.replay(tenant, "elsewhere-3") is None  # another process's id
        hub.publish([LiveEvent(tenant, "work_order", uuid.uuid4()) for _ in range(5)])
        assert hub.replay(tenant, seen) is None  # fell out of the history
        hub.resync("feed_reconnected")
        assert hub.replay(tenant, hub.last_id) == []  # from the resync on, nothing is lost

    asyncio.run(run())


def test_a_full_queue_drops_that_stream_and_no_other() -> None:
    async def run() -> None:
        hub = Hub()
        tenant = uuid.uuid4()
        slow, fast = _console(tenant, queue_size=2), _console(tenant, queue_size=100)
        hub.add_console(slow)
        hub.add_console(fast)
        for _ in range(5):
            hub.publish([LiveEvent(tenant, "work_order", uuid.uuid4())])
            _frames(fast)  # the fast one reads as it goes
        assert slow.dropped and not fast.dropped
        hub.remove_console(slow)
        assert hub.dropped == 1

    asyncio.run(run())


def test_a_position_refreshes_the_orders_its_technician_is_tracked_on() -> None:
    async def run() -> None:
        refreshed: list[uuid.UUID] = []
        hub = Hub(on_tracked=refreshed.append)
        tenant, order, technician = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        tracker = TrackingSubscriber("token", None, "http://x", order, 8)
        hub.add_tracking(tracker, technician)
        hub.publish([LiveEvent(tenant, "position", uuid.uuid4())])  # someone else
        assert refreshed == []
        hub.publish([LiveEvent(tenant, "position", technician, technician_id=technician)])
        assert refreshed == [order]
        hub.remove_tracking(tracker)
        hub.publish([LiveEvent(tenant, "position", technician, technician_id=technician)])
        assert refreshed == [order]  # nobody watches any more

    asyncio.run(run())
