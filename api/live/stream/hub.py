"""Fan-out in memory: every committed event to the open streams that may see it.

Everything here runs on the server's one event loop, so nothing is locked. Each
stream is a :class:`Subscriber` with a bounded queue; :meth:`Hub.publish` encodes
an event once and offers the same bytes to every console stream of its tenant.
A stream whose queue is full is **dropped** at once (its browser reconnects and
resumes, see below): one slow phone never holds up the others, nor the hub.

Event ids are ``<epoch>-<n>``: ``epoch`` names this process's life, ``n`` counts
its events. The last :data:`HISTORY` console events are kept, so a reconnecting
console that sends ``Last-Event-ID`` gets what it missed; when that cannot be
told exactly (another process, a restart, too long away, the database feed was
lost for a moment) it gets a ``resync`` event instead and re-reads through the
API. Tracking streams always start with the current view, so they need no
history.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from typing import Any

from api.live.access import ConsoleGrant
from api.live.events import LiveEvent
from api.live.stream import sse

HISTORY = 4096


class Subscriber:
    """One open stream: the frames its writer still has to send, in order."""

    def __init__(self, queue_size: int) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(queue_size)
        self.task: asyncio.Task[Any] | None = None  # the handler, cancelled if dropped
        self.closed = False
        self.dropped = False

    def offer(self, frame: bytes) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.drop()

    def drop(self) -> None:
        """Too slow to keep up: closed now, whatever it has not read is lost."""
        if self.dropped:
            return
        self.closed = self.dropped = True
        if self.task is not None:
            self.task.cancel()

    def finish(self, *frames: bytes) -> None:
        """A last word (revoked, gone, the work is done), then the stream ends."""
        if self.closed:
            return
        try:
            for frame in frames:
                self.queue.put_nowait(frame)
            self.queue.put_nowait(None)
        except asyncio.QueueFull:
            self.drop()
        self.closed = True


class ConsoleSubscriber(Subscriber):
    def __init__(self, grant: ConsoleGrant, queue_size: int) -> None:
        super().__init__(queue_size)
        self.grant = grant


class TrackingSubscriber(Subscriber):
    def __init__(
        self,
        token: str,
        language: str | None,
        public_url: str,
        work_order_id: uuid.UUID,
        queue_size: int,
    ) -> None:
        super().__init__(queue_size)
        self.token = token
        self.language = language
        self.public_url = public_url
        self.work_order_id = work_order_id


class Hub:
    def __init__(
        self, on_tracked: Callable[[uuid.UUID], None] | None = None, history: int = HISTORY
    ) -> None:
        self.epoch = secrets.token_hex(4)
        self.seq = 0
        self.dropped = 0  # streams closed for being too slow, since start
        self._on_tracked = on_tracked or (lambda _order: None)
        self._history: deque[tuple[int, uuid.UUID, bytes]] = deque(maxlen=history)
        self._consoles: dict[uuid.UUID, set[ConsoleSubscriber]] = defaultdict(set)
        self._orders: dict[uuid.UUID, set[TrackingSubscriber]] = defaultdict(set)
        self._assignee: dict[uuid.UUID, uuid.UUID] = {}  # watched order -> its technician
        self._watched_by: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)  # reverse

    @property
    def last_id(self) -> str:
        return f"{self.epoch}-{self.seq}"

    def next_id(self) -> str:
        self.seq += 1
        return self.last_id

    # -- publishing ------------------------------------------------------------

    def publish(self, events: Iterable[LiveEvent]) -> None:
        refresh: set[uuid.UUID] = set()
        for event in events:
            event_id = self.next_id()
            frame = sse.frame(event.kind, event.public(), event_id)
            self._history.append((self.seq, event.tenant_id, frame))
            for subscriber in tuple(self._consoles.get(event.tenant_id, ())):
                self._offer(subscriber, frame)
            if event.work_order_id is not None and event.work_order_id in self._orders:
                refresh.add(event.work_order_id)
            if event.kind == "position":
                refresh.update(self._watched_by.get(event.id, ()))
        for order_id in refresh:
            self._on_tracked(order_id)

    def resync(self, reason: str) -> None:
        """Events may have been lost (the database feed reconnected): every console
        re-reads, every tracking stream is sent its view again."""
        self._history.clear()  # no replay may pretend to bridge the gap
        frame = sse.frame("resync", {"reason": reason}, self.next_id())
        for subscribers in tuple(self._consoles.values()):
            for subscriber in tuple(subscribers):
                self._offer(subscriber, frame)
        for order_id in tuple(self._orders):
            self._on_tracked(order_id)

    def heartbeat(self) -> None:
        for subscriber in self.subscribers():
            self._offer(subscriber, sse.HEARTBEAT)

    def replay(self, tenant_id: uuid.UUID, last_event_id: str) -> list[bytes] | None:
        """The tenant's events after ``last_event_id``; None when that cannot be told."""
        epoch, _, number = last_event_id.partition("-")
        if epoch != self.epoch or not number.isdigit() or int(number) > self.seq:
            return None
        oldest = self._history[0][0] if self._history else self.seq + 1
        if int(number) < oldest - 1:
            return None
        after = int(number)
        return [
            frame for seq, tenant, frame in self._history if seq > after and tenant == tenant_id
        ]

    def _offer(self, subscriber: Subscriber, frame: bytes) -> None:
        subscriber.offer(frame)

    # -- who is watching -------------------------------------------------------

    def add_console(self, subscriber: ConsoleSubscriber) -> None:
        self._consoles[subscriber.grant.tenant_id].add(subscriber)

    def remove_console(self, subscriber: ConsoleSubscriber) -> None:
        self.dropped += subscriber.dropped
        watchers = self._consoles.get(subscriber.grant.tenant_id)
        if watchers is not None:
            watchers.discard(subscriber)
            if not watchers:
                del self._consoles[subscriber.grant.tenant_id]

    def consoles(self) -> list[ConsoleSubscriber]:
        return [s for subscribers in self._consoles.values() for s in subscribers]

    def add_tracking(self, subscriber: TrackingSubscriber, technician_id: uuid.UUID | None) -> None:
        self._orders[subscriber.work_order_id].add(subscriber)
        self.assign(subscriber.work_order_id, technician_id)

    def remove_tracking(self, subscriber: TrackingSubscriber) -> None:
        self.dropped += subscriber.dropped
        order_id = subscriber.work_order_id
        watchers = self._orders.get(order_id)
        if watchers is None:
            return
        watchers.discard(subscriber)
        if not watchers:
            del self._orders[order_id]
            self.assign(order_id, None)

    def trackers(self, order_id: uuid.UUID) -> list[TrackingSubscriber]:
        return list(self._orders.get(order_id, ()))

    def assign(self, order_id: uuid.UUID, technician_id: uuid.UUID | None) -> None:
        """Whose positions concern the order's tracking streams (its assignee's)."""
        previous = self._assignee.pop(order_id, None)
        if previous is not None:
            self._watched_by[previous].discard(order_id)
            if not self._watched_by[previous]:
                del self._watched_by[previous]
        if technician_id is not None and order_id in self._orders:
            self._assignee[order_id] = technician_id
            self._watched_by[technician_id].add(order_id)

    def subscribers(self) -> list[Subscriber]:
        found: list[Subscriber] = list(self.consoles())
        found += [s for subscribers in self._orders.values() for s in subscribers]
        return found

    def count(self, predicate: Callable[[Subscriber], bool]) -> int:
        return sum(1 for s in self.subscribers() if predicate(s))
