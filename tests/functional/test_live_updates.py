"""Live updates: a change committed here reaches the streams that may see it, and no other.

The stream server runs on a thread of this process (``ThreadedStreams``), fed the
way its backend feeds it: on SQLite by the in-process relay, on PostgreSQL by
LISTEN/NOTIFY on its own connection. Commits are made through the API and the
services, as users make them.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from api.auth.actor import Actor
from api.auth.permissions import Role
from api.config import Config
from api.live import tickets
from api.live.events import LiveEvent
from api.live.stream.app import Limits
from api.live.stream.run import ThreadedStreams
from api.workorders.states import Status
from sync_protocol.mutations import TransitionWorkOrder
from sync_protocol.workorder_status import Action
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.core import SECRET
from tests.support.positions import ALWAYS, Tracked, fix
from tests.support.push import Device
from tests.support.sse import EventStream


@pytest.fixture
def streams(config: Config, engine: Engine) -> Iterator[ThreadedStreams]:
    server = ThreadedStreams(
        replace(config, tracking_rate_limit="1000/minute"),
        limits=Limits(heartbeat_seconds=3600, recheck_seconds=3600),
    ).start()
    yield server
    server.stop()


class Console:
    """A dispatcher (or admin) of one tenant who opens the console's stream."""

    def __init__(self, client: ApiClient, port: int, token: str) -> None:
        self.api = client.as_(token)
        self.port = port

    def ticket(self) -> dict[str, Any]:
        response = self.api.post("/v1/live/tickets")
        assert response.status_code == 201, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    def open(self, last_event_id: str | None = None) -> EventStream:
        query = f"ticket={self.ticket()['ticket']}"
        if last_event_id is not None:
            query += f"&last_event_id={last_event_id}"
        stream = EventStream(self.port, f"/live/console?{query}")
        assert stream.status == 200
        return stream


def _console(
    client: ApiClient, streams: ThreadedStreams, factories: Factories
) -> tuple[Any, Console]:
    scene = factories.scene()
    return scene, Console(client, streams.port, scene.dispatcher_token)


def test_a_committed_change_reaches_the_dispatchers_stream(
    client: ApiClient, factories: Factories, streams: ThreadedStreams
) -> None:
    scene, console = _console(client, streams, factories)
    order = factories.work_order(scene.world, scene.customer, scene.site)
    with console.open() as stream:
        ready = stream.until(lambda e: e.kind == "ready")
        assert ready.data["last_event_id"]
        factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
        event = stream.until(lambda e: e.kind == "work_order")
    assert event.data["id"] == str(order.id)
    assert event.data["status"] == "assigned"
    assert event.data["assignee_id"] == str(scene.technician.id)
    assert event.id and event.id.startswith(streams.server.hub.epoch)  # type: ignore[union-attr]


def test_a_ticket_names_where_to_connect(
    client: ApiClient, factories: Factories, streams: ThreadedStreams
) -> None:
    _, console = _console(client, streams, factories)
    body = console.ticket()
    assert body["console_url"].endswith(f"/live/console?ticket={body['ticket']}")
    assert body["expires_at"].endswith("Z")


def test_a_dispatcher_of_another_tenant_sees_nothing_of_it(
    client: ApiClient, factories: Factories, streams: ThreadedStreams
) -> None:
    a, _ = _console(client, streams, factories)
    b, console_b = _console(client, streams, factories)
    order_a = factories.work_order(a.world, a.customer, a.site)
    order_b = factories.work_order(b.world, b.customer, b.site)
    with console_b.open() as stream:
        stream.until(lambda e: e.kind == "ready")
        factories.transition(a.world, order_a, "assign", assignee_id=a.technician.id)
        factories.transition(b.world, order_b, "assign", assignee_id=b.technician.id)
        seen = stream.kinds_until("work_order")
    ids = {e.data.get("work_order_id") for e in seen}
    assert ids == {str(order_b.id)}  # A's change, committed first, never came


def test_positions_reach_the_console_map(
    client: ApiClient, factories: Factories, engine: Engine, streams: ThreadedStreams
) -> None:
    tracked = Tracked(client, factories, engine, working_hours=ALWAYS)
    console = Console(client, streams.port, tracked.world.admin_token)
    with console.open() as stream:
        stream.until(lambda e: e.kind == "ready")
        tracked.send(fix(0.5, east_m=100))
        event = stream.until(lambda e: e.kind == "position")
    assert event.data["technician_id"] == str(tracked.technician.id)
    assert event.data["lat"] == pytest.approx(31.2304)
    assert event.data["fixed_at"].endswith("Z")


@pytest.mark.parametrize(
    ("query", "code"),
    [("", "live.ticket_invalid"), ("?ticket=forged.ticket.value", "live.ticket_invalid")],
)
def test_a_stream_without_a_good_ticket_is_refused_as_a_problem(
    streams: ThreadedStreams, query: str, code: str
) -> None:
    with EventStream(streams.port, f"/live/console{query}") as stream:
        assert stream.status == 401
        body = stream.problem()
    assert body["code"] == code and body["status"] == 401 and body["instance"] == "/live/console"


def test_an_expired_or_revoked_ticket_is_refused(
    client: ApiClient, factories: Factories, streams: ThreadedStreams
) -> None:
    _scene, console = _console(client, streams, factories)
    ticket = console.ticket()["ticket"]
    claims = tickets.read(ticket, SECRET)
    assert claims is not None
    actor = Actor(
        tenant_id=claims.tenant_id, role=Role.DISPATCHER, user_id=claims.user_id,
        session_id=claims.session_id,
    )  # fmt: skip
    expired = tickets.issue(actor, SECRET, ttl=timedelta(seconds=-5)).ticket
    with EventStream(streams.port, f"/live/console?ticket={expired}") as stream:
        assert stream.status == 401 and stream.problem()["code"] == "live.ticket_invalid"
    assert console.api.post("/v1/auth/logout").status_code in (200, 204)
    with EventStream(streams.port, f"/live/console?ticket={ticket}") as stream:
        assert stream.status == 401 and stream.problem()["code"] == "live.ticket_invalid"


def test_technicians_and_customers_get_no_console_ticket(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    for token in (scene.technician_token, scene.contact_token):
        response = client.as_(token).post("/v1/live/tickets")
        assert_problem(response, 403, "auth.forbidden")


def test_a_stream_ends_when_its_session_is_revoked(
    client: ApiClient, factories: Factories, streams: ThreadedStreams
) -> None:
    _, console = _console(client, streams, factories)
    with console.open() as stream:
        stream.until(lambda e: e.kind == "ready")
        assert console.api.post("/v1/auth/logout").status_code in (200, 204)
        server = streams.server
        assert server is not None
        streams.call(server.recheck_soon)
        revoked = stream.until(lambda e: e.kind == "revoked")
        assert revoked.data["code"] == "live.ticket_invalid"
        assert stream.ended()


def test_a_reconnect_with_last_event_id_gets_what_it_missed(
    client: ApiClient, factories: Factories, streams: ThreadedStreams
) -> None:
    scene, console = _console(client, streams, factories)
    first, second = (factories.work_order(scene.world, scene.customer, scene.site) for _ in "12")
    with console.open() as stream:
        stream.until(lambda e: e.kind == "ready")
        factories.transition(scene.world, first, "assign", assignee_id=scene.technician.id)
        seen = stream.until(lambda e: e.kind == "work_order")
    # Away: two changes happen. A new ticket, and the last id seen.
    factories.transition(scene.world, second, "assign", assignee_id=scene.technician.id)
    factories.transition(scene.world, second, "cancel", reason="客户取消")
    with console.open(last_event_id=seen.id) as stream:
        missed = stream.kinds_until("ready")
    orders = [(e.data["id"], e.data["status"]) for e in missed if e.kind == "work_order"]
    assert orders == [(str(second.id), "assigned"), (str(second.id), "cancelled")]
    assert all(e.kind != "resync" for e in missed)


def test_an_unknown_last_event_id_asks_for_a_resync(
    client: ApiClient, factories: Factories, streams: ThreadedStreams
) -> None:
    _, console = _console(client, streams, factories)
    with console.open(last_event_id="another-process-12") as stream:
        kinds = [e.kind for e in stream.kinds_until("ready")]
    assert kinds == ["resync", "ready"]


class Job:
    """An order whose customer follows it on the tracking stream."""

    def __init__(self, client: ApiClient, factories: Factories, engine: Engine) -> None:
        self.factories = factories
        self.tracked = Tracked(client, factories, engine, working_hours=ALWAYS, name="张伟")
        self.world = self.tracked.world
        customer = factories.customer(self.world)
        self.site = factories.site(self.world, customer, lat=31.2397, lon=121.4998)
        self.customer = customer
        self.order = factories.work_order(self.world, customer, self.site)
        admin = client.as_(self.world.admin_token)
        response = admin.post(f"/v1/work-orders/{self.order.id}/tracking-link")
        assert response.status_code == 201
        self.token: str = response.get_json()["token"]

    def to(self, status: Status) -> None:
        self.order = self.factories.advance(self.world, self.order, status, self.tracked.technician)


def test_the_tracking_stream_follows_its_order_only_while_it_is_live(
    client: ApiClient, factories: Factories, engine: Engine, streams: ThreadedStreams
) -> None:
    job = Job(client, factories, engine)
    other = factories.work_order(job.world, job.customer, job.site)
    with EventStream(streams.port, f"/live/t/{job.token}?lang=en") as stream:
        assert stream.status == 200
        first = stream.until(lambda e: e.kind == "tracking")
        assert first.data["status"] == "new" and first.data["position"] is None
        assert "id" not in first.data and str(job.order.id) not in str(first.data)
        factories.transition(job.world, other, "assign", assignee_id=job.tracked.technician.id)
        job.to(Status.EN_ROUTE)
        on_the_way = stream.until(lambda e: e.kind == "tracking" and e.data["status"] == "en_route")
        assert on_the_way.data["technician"]["name"]
        job.tracked.send(fix(0, east_m=50))  # taken after setting off
        moving = stream.until(lambda e: e.kind == "tracking" and e.data["position"] is not None)
        assert moving.data["eta"] is not None
        job.to(Status.COMPLETED)
        last = stream.until(lambda e: e.kind == "tracking" and e.data["status"] == "completed")
        assert last.data["position"] is None and last.data["eta"] is None
        assert stream.until(lambda e: e.kind == "end").data == {}
        assert stream.ended()
    # Nothing live after completion: 204 tells a browser not to reconnect.
    with EventStream(streams.port, f"/live/t/{job.token}") as stream:
        assert stream.status == 204


def test_a_tracking_stream_ends_when_its_link_is_revoked(
    client: ApiClient, factories: Factories, engine: Engine, streams: ThreadedStreams
) -> None:
    job = Job(client, factories, engine)
    with EventStream(streams.port, f"/live/t/{job.token}") as stream:
        stream.until(lambda e: e.kind == "tracking")
        admin = client.as_(job.world.admin_token)
        assert admin.delete(f"/v1/work-orders/{job.order.id}/tracking-link").status_code == 204
        gone = stream.until(lambda e: e.kind == "gone")
        assert gone.data["code"] == "tracking.link_not_found"
        assert stream.ended()


def test_a_batch_synced_from_the_field_reaches_the_stream_once_committed(
    client: ApiClient, factories: Factories, engine: Engine, streams: ThreadedStreams
) -> None:
    """The sync push applies each mutation in a savepoint: what it changed is told when
    the batch commits, not at each savepoint (when nobody else can read it yet)."""
    job = Job(client, factories, engine)
    job.to(Status.EN_ROUTE)
    device = Device(job.tracked.api)
    steps = [("arrive", Status.EN_ROUTE), ("start_work", Status.ON_SITE)]
    steps.append(("complete", Status.IN_PROGRESS))
    batch = [
        device.mutation(
            TransitionWorkOrder(
                job.order.id,
                Action(action),
                base,
                resolution="更换滤芯" if action == "complete" else None,
            )
        )
        for action, base in steps
    ]
    with EventStream(streams.port, f"/live/t/{job.token}?lang=en") as stream:
        assert stream.until(lambda e: e.kind == "tracking").data["status"] == "en_route"
        receipts = device.push_ok(batch).receipts
        assert [r.status.value for r in receipts] == ["applied"] * 3
        done = stream.until(lambda e: e.kind == "tracking" and e.data["status"] != "en_route")
        assert done.data["status"] == "completed"
        assert stream.until(lambda e: e.kind == "end").data == {}


@pytest.mark.parametrize("token", ["not-a-token", "A" * 43])
def test_an_unknown_tracking_token_is_a_404_problem(streams: ThreadedStreams, token: str) -> None:
    with EventStream(streams.port, f"/live/t/{token}") as stream:
        assert stream.status == 404
        assert stream.problem()["code"] == "tracking.link_not_found"


def test_too_many_streams_for_one_session_are_refused(
    client: ApiClient, factories: Factories, streams: ThreadedStreams
) -> None:
    _, console = _console(client, streams, factories)
    opened = [console.open() for _ in range(Limits().per_session)]
    try:
        with EventStream(
            streams.port, f"/live/console?ticket={console.ticket()['ticket']}"
        ) as refused:
            assert refused.status == 429
            assert refused.problem()["code"] == "live.too_many_streams"
    finally:
        for stream in opened:
            stream.close()


def test_events_carry_no_other_tenant_id(
    client: ApiClient, factories: Factories, streams: ThreadedStreams
) -> None:
    scene, console = _console(client, streams, factories)
    order = factories.work_order(scene.world, scene.customer, scene.site)
    with console.open() as stream:
        stream.until(lambda e: e.kind == "ready")
        factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
        event = stream.until(lambda e: e.kind == "work_order")
    assert set(event.data) <= {"kind", "id", "work_order_id", "technician_id", "status",
                               "assignee_id", "priority"}  # fmt: skip
    assert uuid.UUID(event.data["id"]) == order.id


def test_a_slow_reader_is_dropped_and_never_holds_up_the_others(
    client: ApiClient, factories: Factories, streams: ThreadedStreams
) -> None:
    scene, console = _console(client, streams, factories)
    server = streams.server
    assert server is not None
    # A phone on a bad network: connected, but it never reads (and its window is tiny).
    slow = socket.socket()
    try:
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", streams.port))
        slow.sendall(
            f"GET /live/console?ticket={console.ticket()['ticket']} HTTP/1.1\r\n"
            "Host: 127.0.0.1\r\n\r\n".encode()
        )
        with console.open() as fast:
            fast.until(lambda e: e.kind == "ready")
            # Both streams join the hub once their sessions are checked (in either order).
            deadline = time.monotonic() + 30
            while streams.call(lambda: len(server.hub.consoles())) < 2:
                assert time.monotonic() < deadline, "the slow stream never joined"
                time.sleep(0.05)
            pad = "x" * 4000
            total = 0
            # 4 kB events, five at a time, until the slow one is gone (the socket buffers
            # take a few megabytes first); the fast reader reads every one as it goes.
            while streams.call(lambda: len(server.hub.consoles())) == 2 and total < 10_000:
                batch = [
                    LiveEvent(scene.world.tenant_id, "evidence", uuid.uuid4(), data={"pad": pad})
                    for _ in range(5)
                ]
                streams.call(lambda batch=batch: server.hub.publish(batch))
                total += 5
                for _ in batch:
                    fast.until(lambda e: e.kind == "evidence", timeout=30)
            assert streams.call(lambda: len(server.hub.consoles())) == 1  # the slow one is gone
    finally:
        slow.close()
    assert streams.call(lambda: server.hub.dropped) == 1
