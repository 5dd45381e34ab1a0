"""The stream server's HTTP side: who may open which stream, and pumping it.

Routes (behind the same reverse proxy as the API, under ``/live/``):

- ``GET /live/console?ticket=…`` — a dispatcher's or admin's stream of their
  tenant's events (``work_order``, ``position``, ``conflict``, ``evidence``, …);
  ``Last-Event-ID`` (header, or ``last_event_id`` in the query, for a client that
  opens a new ``EventSource`` with a fresh ticket) resumes;
- ``GET /live/t/<token>`` — the customer's tracking stream: ``tracking`` events
  carrying the public tracking view; none once the work is finished (204, which
  tells ``EventSource`` not to come back);
- ``GET /live/health`` — counts, and whether the feed is up.

Refusals are ``application/problem+json`` with the API's codes. Every stream
starts with ``retry:`` and, for the console, a ``ready`` event; comments keep
idle connections alive through proxies; a stream that cannot keep up is closed.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from api.errors.base import FieldlineError
from api.errors.problem import PROBLEM_MIMETYPE, TYPE_BASE, status_for
from api.live.access import StreamAccess, TrackingView
from api.live.errors import TooManyStreams
from api.live.stream import sse
from api.live.stream.hub import ConsoleSubscriber, Hub, Subscriber, TrackingSubscriber
from api.tracking.errors import TrackingLinkNotFound

log = logging.getLogger(__name__)

PREFIX = "/live"
_CORS = {"Access-Control-Allow-Origin": "*"}  # credentials ride in the URL, never cookies


@dataclass(frozen=True)
class Limits:
    queue_size: int = 64  # frames a stream may fall behind before it is dropped
    per_session: int = 8  # console streams per login session
    per_link: int = 8  # tracking streams per tracking link
    total: int = 20000
    heartbeat_seconds: float = 15.0
    recheck_seconds: float = 30.0  # console sessions asked again (and at once on PostgreSQL)
    write_timeout_seconds: float = 10.0
    retry_ms: int = 2000


class StreamServer:
    def __init__(self, access: StreamAccess, limits: Limits | None = None) -> None:
        self.access = access
        self.limits = limits or Limits()
        self.hub = Hub(on_tracked=self.refresh_tracking)
        self.feed: Any = None  # PostgresFeed | SqliteFeed, for /live/health
        self._refreshing: dict[uuid.UUID, bool] = {}
        self._recheck_due = False
        self._tasks: set[asyncio.Task[Any]] = set()

    def web_app(self) -> web.Application:
        app = web.Application(handler_args={"max_field_size": 16384})
        app.router.add_get(f"{PREFIX}/console", self.console)
        app.router.add_get(PREFIX + "/t/{token}", self.tracking)
        app.router.add_get(f"{PREFIX}/health", self.health)
        return app

    # -- handlers --------------------------------------------------------------

    async def console(self, request: web.Request) -> web.StreamResponse:
        try:
            grant = await asyncio.to_thread(self.access.open_console, request.query.get("ticket"))
        except FieldlineError as error:
            return problem(request, error)
        same_session = self.hub.count(
            lambda s: isinstance(s, ConsoleSubscriber) and s.grant.session_id == grant.session_id
        )
        if same_session >= self.limits.per_session or self._full():
            return problem(request, TooManyStreams())
        subscriber = ConsoleSubscriber(grant, self.limits.queue_size)
        subscriber.offer(sse.retry(self.limits.retry_ms))
        last = request.headers.get("Last-Event-ID") or request.query.get("last_event_id")
        if last:
            missed = self.hub.replay(grant.tenant_id, last)
            if missed is None or len(missed) > self.limits.queue_size // 2:
                subscriber.offer(sse.frame("resync", {"reason": "history"}))
            else:
                for frame in missed:
                    subscriber.offer(frame)
        subscriber.offer(sse.frame("ready", {"last_event_id": self.hub.last_id}))
        # No await between the replay and joining the hub: nothing published in between.
        self.hub.add_console(subscriber)
        try:
            return await self._pump(request, subscriber)
        finally:
            self.hub.remove_console(subscriber)

    async def tracking(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        language = _language(request)
        seen = self.hub.seq
        try:
            view = await asyncio.to_thread(
                self.access.open_tracking,
                token,
                language,
                request.remote or "unknown",
                _public_url(request, self.access),
            )
        except FieldlineError as error:
            return problem(request, error)
        if view.finished:
            # Nothing live after the work is done; 204 tells EventSource to stop.
            return web.Response(status=204, headers=_CORS)
        same_link = self.hub.count(lambda s: isinstance(s, TrackingSubscriber) and s.token == token)
        if same_link >= self.limits.per_link or self._full():
            return problem(request, TooManyStreams())
        subscriber = TrackingSubscriber(
            token,
            language,
            _public_url(request, self.access),
            view.work_order_id,
            self.limits.queue_size,
        )
        subscriber.offer(sse.retry(self.limits.retry_ms))
        subscriber.offer(sse.frame("tracking", view.body, self.hub.next_id()))
        self.hub.add_tracking(subscriber, view.technician_id)
        if self.hub.seq != seen + 1:
            self.refresh_tracking(view.work_order_id)  # something changed while we read
        try:
            return await self._pump(request, subscriber)
        finally:
            self.hub.remove_tracking(subscriber)

    async def health(self, _request: web.Request) -> web.Response:
        feed_up = bool(getattr(self.feed, "up", False))
        body = {
            "status": "ok" if feed_up else "degraded",
            "feed": "up" if feed_up else "down",
            "streams": len(self.hub.subscribers()),
            "dropped": self.hub.dropped,
            "last_event_id": self.hub.last_id,
            "reconnects": getattr(self.feed, "reconnects", 0),
        }
        return web.json_response(body, status=200 if feed_up else 503, headers=_CORS)

    # -- pumping ---------------------------------------------------------------

    async def _pump(self, request: web.Request, subscriber: Subscriber) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",  # nginx: pass each event on at once
                "Referrer-Policy": "no-referrer",
                **_CORS,
            }
        )
        await response.prepare(request)
        subscriber.task = asyncio.current_task()
        try:
            while (frame := await subscriber.queue.get()) is not None:
                # A timer, not wait_for's task per write: one event is a thousand writes.
                async with asyncio.timeout(self.limits.write_timeout_seconds):
                    await response.write(frame)
        except (ConnectionError, TimeoutError):
            subscriber.closed = True  # gone, or too slow to take a frame in time
        except asyncio.CancelledError:
            if subscriber.dropped and request.transport is not None:
                request.transport.abort()  # don't flush a backlog to a client that can't read
            raise
        return response

    def _full(self) -> bool:
        return len(self.hub.subscribers()) >= self.limits.total

    # -- tracking refreshes ----------------------------------------------------

    def refresh_tracking(self, order_id: uuid.UUID) -> None:
        """Send the order's tracking streams their view again, once per burst of changes."""
        if order_id in self._refreshing:
            self._refreshing[order_id] = True  # again when the running refresh is done
            return
        self._refreshing[order_id] = False
        self._spawn(self._refresh(order_id))

    async def _refresh(self, order_id: uuid.UUID) -> None:
        try:
            while True:
                groups: dict[tuple[str, str | None, str], list[TrackingSubscriber]] = {}
                for s in self.hub.trackers(order_id):
                    groups.setdefault((s.token, s.language, s.public_url), []).append(s)
                for (token, language, public_url), subscribers in groups.items():
                    await self._refresh_group(token, language, public_url, subscribers)
                if not self._refreshing.get(order_id):
                    return
                self._refreshing[order_id] = False
        finally:
            self._refreshing.pop(order_id, None)

    async def _refresh_group(
        self, token: str, language: str | None, public_url: str, group: list[TrackingSubscriber]
    ) -> None:
        try:
            view: TrackingView = await asyncio.to_thread(
                self.access.read_tracking, token, language, public_url
            )
        except TrackingLinkNotFound:
            for subscriber in group:
                subscriber.finish(sse.frame("gone", {"code": TrackingLinkNotFound.code}))
            return
        except Exception:  # the database is away: the next change tries again
            log.exception("tracking refresh failed")
            return
        frame = sse.frame("tracking", view.body, self.hub.next_id())
        self.hub.assign(view.work_order_id, view.technician_id)
        for subscriber in group:
            if view.finished:
                subscriber.finish(frame, sse.frame("end", {}))
            else:
                subscriber.offer(frame)

    # -- console sessions, asked again ------------------------------------------

    def recheck_soon(self) -> None:
        """A session may have ended (a notice on ``fieldline_auth``): ask again shortly,
        once for a burst of notices."""
        if self._recheck_due:
            return
        self._recheck_due = True

        async def later() -> None:
            await asyncio.sleep(0.1)
            self._recheck_due = False
            await self.recheck()

        self._spawn(later())

    async def recheck(self) -> None:
        consoles = self.hub.consoles()
        if not consoles:
            return
        try:
            allowed = await asyncio.to_thread(
                self.access.still_allowed, {s.grant for s in consoles}
            )
        except Exception:
            log.exception("console sessions could not be checked")
            return
        revoked = sse.frame("revoked", {"code": "live.ticket_invalid"})
        for subscriber in consoles:
            if subscriber.grant not in allowed:
                subscriber.finish(revoked)

    async def background(self) -> None:
        """Heartbeats and the periodic session check, until cancelled."""
        beat, check = self.limits.heartbeat_seconds, self.limits.recheck_seconds
        next_beat, next_check = beat, check
        clock = 0.0
        while True:
            step = min(next_beat, next_check) - clock
            await asyncio.sleep(max(step, 0.01))
            clock += max(step, 0.01)
            if clock >= next_beat:
                self.hub.heartbeat()
                next_beat += beat
            if clock >= next_check:
                await self.recheck()
                next_check += check

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def problem(request: web.Request, error: FieldlineError) -> web.Response:
    """The API's problem+json, from the stream server."""
    status = status_for(error)
    language = "zh-CN" if request.headers.get("Accept-Language", "").startswith("zh") else "en"
    title = error.titles.get(language) or error.titles.get("en") or error.code
    body = {
        "type": TYPE_BASE + error.code,
        "title": title,
        "status": status,
        "detail": error.detail or title,
        "instance": request.path,
        "code": error.code,
        "trace_id": uuid.uuid4().hex,
    }
    return web.json_response(
        body,
        status=status,
        content_type=PROBLEM_MIMETYPE,
        headers={**_CORS, **error.headers, "Content-Language": language},
    )


def _language(request: web.Request) -> str | None:
    asked = request.query.get("lang")
    if asked in ("en", "zh-CN"):
        return asked
    header = request.headers.get("Accept-Language", "")
    if not header:
        return None
    return "zh-CN" if header.lower().startswith("zh") else "en"


def _public_url(request: web.Request, access: StreamAccess) -> str:
    return access.public_url or f"{request.scheme}://{request.host}"
