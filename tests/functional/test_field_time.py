"""The field's time, not the server's (PROTOCOL.md § 7.3): history, evidence and actuals say
when things happened on the device, beside when the server recorded them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.db import utcnow
from sync_protocol.entities import NoteVisibility
from sync_protocol.mutations import AddNote, TransitionWorkOrder
from sync_protocol.workorder_status import Action, Status
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene
from tests.support.push import Device, new_id
from tests.support.sync import Replica

MINUTE = timedelta(minutes=1)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _assigned_hours_ago(factories: Factories, scene: Scene, hours: int = 3) -> Any:
    """An order created and assigned ``hours`` ago: the device has had it since."""
    order = factories.work_order(scene.world, scene.customer, scene.site)
    order = factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    factories.backdate(order.id, timedelta(hours=hours))
    return order


def _history(client: ApiClient, token: str, order_id: uuid.UUID, **query: Any) -> list[Any]:
    response = client.as_(token).get(f"/v1/work-orders/{order_id}/history", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    items: list[Any] = response.get_json()["items"]
    return items


def _steps(order_id: uuid.UUID) -> list[TransitionWorkOrder]:
    """accept, travel, arrive, start, complete: the field path of § 16.1."""
    return [
        TransitionWorkOrder(order_id, Action.ACCEPT, Status.ASSIGNED),
        TransitionWorkOrder(order_id, Action.START_TRAVEL, Status.ACCEPTED),
        TransitionWorkOrder(order_id, Action.ARRIVE, Status.EN_ROUTE),
        TransitionWorkOrder(order_id, Action.START_WORK, Status.ON_SITE),
        TransitionWorkOrder(order_id, Action.COMPLETE, Status.IN_PROGRESS, resolution="换了电容"),
    ]


def test_an_offline_job_shows_in_history_and_actuals_when_it_happened_not_when_synced(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = _assigned_hours_ago(factories, scene)
    started = utcnow().replace(microsecond=0) - timedelta(hours=2)
    offsets = [0, 10, 40, 45, 100]  # accepted, left 10 min later, a 30 min drive, …
    device = Device(client.as_(scene.technician_token))
    steps = list(zip(_steps(order.id), offsets, strict=True))
    note = AddNote(new_id(), order.id, "压缩机电容鼓包")
    made: list[tuple[Any, int]] = [*steps[:4], (note, 60), steps[4]]
    batch = [device.mutation(args, wall_ms=_ms(started + m * MINUTE)) for args, m in made]
    synced_from = utcnow()

    device.push_ok(batch)

    history = _history(client, scene.dispatcher_token, order.id)
    assert [h["action"] for h in history] == [
        "create",
        "assign",
        "accept",
        "start_travel",
        "arrive",
        "start_work",
        "complete",
    ]
    field = history[2:]
    assert [_at(h["occurred_at"]) for h in field] == [started + m * MINUTE for m in offsets]
    assert all(_at(h["recorded_at"]) >= synced_from for h in field)  # stored at the sync
    assert all(_at(h["occurred_at"]) < synced_from for h in field)
    # Work started when the technician started it and ended when they completed it.
    saved = client.as_(scene.dispatcher_token).get(f"/v1/work-orders/{order.id}").get_json()
    assert _at(saved["actual_start"]) == started + 45 * MINUTE
    assert _at(saved["actual_end"]) == started + 100 * MINUTE
    assert _at(saved["completed_at"]) == started + 100 * MINUTE
    notes = client.as_(scene.dispatcher_token).get(f"/v1/work-orders/{order.id}/notes")
    (note,) = notes.get_json()["items"]
    assert _at(note["occurred_at"]) == started + 60 * MINUTE
    assert _at(note["created_at"]) >= synced_from
    # Pages follow the same order as the whole list.
    paged: list[Any] = []
    cursor = None
    while True:
        query: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        response = client.as_(scene.dispatcher_token).get(
            f"/v1/work-orders/{order.id}/history", query_string=query
        )
        paged += response.get_json()["items"]
        cursor = response.get_json()["next_cursor"]
        if cursor is None:
            break
    assert paged == history


def test_a_phone_whose_clock_runs_ahead_is_placed_back_by_its_measured_skew(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = _assigned_hours_ago(factories, scene)
    hour = 3_600_000
    device = Device(client.as_(scene.technician_token), clock_offset_ms=hour)
    accepted = utcnow() - 30 * MINUTE  # true time; the phone says an hour later

    device.push_ok([device.mutation(_steps(order.id)[0], wall_ms=_ms(accepted) + hour)])

    accept = _history(client, scene.dispatcher_token, order.id)[-1]
    # Corrected by the skew the push measured (its network delay aside), not clamped to now.
    assert abs(_at(accept["occurred_at"]) - accepted) < timedelta(seconds=5)


def test_a_step_never_shows_before_the_step_it_was_taken_from(
    client: ApiClient, factories: Factories
) -> None:
    """A phone slow by four minutes (within network noise of nothing: its pushes report
    a sound clock) accepts right after the assignment: the accept is not placed before it."""
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    order = factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    device = Device(client.as_(scene.technician_token))
    early = device.mutation(_steps(order.id)[0], wall_ms=_ms(utcnow() - 4 * MINUTE))

    device.push_ok([early])

    history = _history(client, scene.dispatcher_token, order.id)
    assert [h["action"] for h in history] == ["create", "assign", "accept"]
    assert _at(history[2]["occurred_at"]) >= _at(history[1]["occurred_at"])


def test_the_office_may_state_when_a_phoned_in_step_happened_within_bounds(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    order = factories.advance(scene.world, order, Status.EN_ROUTE, scene.technician)
    factories.backdate(order.id, timedelta(hours=1))
    url = f"/v1/work-orders/{order.id}/transitions"
    dispatcher = client.as_(scene.dispatcher_token)
    now = utcnow()

    def arrive(token: str, at: datetime) -> Any:
        body = {"action": "arrive", "occurred_at": at.isoformat()}
        return client.as_(token).post(url, json=body)

    future = arrive(scene.dispatcher_token, now + timedelta(hours=1))
    assert (
        assert_problem(future, 422, "request.validation_failed")["errors"][0]["field"]
        == "occurred_at"
    )
    too_early = arrive(scene.dispatcher_token, now - timedelta(hours=2))  # before departure
    assert assert_problem(too_early, 422, "request.validation_failed")["errors"][0]["code"] == (
        "out_of_range"
    )
    by_technician = arrive(scene.technician_token, now - 10 * MINUTE)
    assert assert_problem(by_technician, 422, "request.validation_failed")["errors"][0]["code"] == (
        "not_allowed"
    )

    stated = (now - 10 * MINUTE).replace(microsecond=0)
    assert arrive(scene.dispatcher_token, stated).status_code == 200

    arrival = _history(client, scene.dispatcher_token, order.id)[-1]
    assert arrival["action"] == "arrive"
    assert _at(arrival["occurred_at"]) == stated
    assert _at(arrival["recorded_at"]) >= now
    assert dispatcher.get(f"/v1/work-orders/{order.id}").status_code == 200


@pytest.mark.parametrize("when", ["now", "default"])
def test_an_online_step_occurs_when_it_is_taken(
    client: ApiClient, factories: Factories, when: str
) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    before = utcnow()
    body: dict[str, Any] = {"action": "assign", "assignee_id": str(scene.technician.id)}
    if when == "now":
        body["occurred_at"] = datetime.now(UTC).isoformat()
    response = client.as_(scene.dispatcher_token).post(
        f"/v1/work-orders/{order.id}/transitions", json=body
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assign = _history(client, scene.dispatcher_token, order.id)[-1]
    assert _at(assign["occurred_at"]) >= before
    assert _at(assign["occurred_at"]) <= _at(assign["recorded_at"])


def test_the_replica_and_the_customer_timeline_carry_the_time_it_happened(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    order = _assigned_hours_ago(factories, scene)
    left = utcnow().replace(microsecond=0) - 90 * MINUTE
    device = Device(client.as_(scene.technician_token))
    accept, travel = _steps(order.id)[:2]
    note = AddNote(new_id(), order.id, "路上堵车", NoteVisibility.CUSTOMER)
    device.push_ok(
        [
            device.mutation(accept, wall_ms=_ms(left - 5 * MINUTE)),
            device.mutation(travel, wall_ms=_ms(left)),
            device.mutation(note, wall_ms=_ms(left + 20 * MINUTE)),
        ]
    )

    timeline = _history(client, scene.contact_token, order.id)
    departure = next(h for h in timeline if h["action"] == "start_travel")
    assert _at(departure["occurred_at"]) == left  # the customer sees when the technician left
    assert _at(departure["recorded_at"]) > left + 60 * MINUTE

    scope = f"technician:{scene.technician.id}"
    replica = Replica(client.as_(scene.technician_token), {scope: None})
    replica.sync()
    changes = [row for (_, table, _), row in replica.rows.items() if table == "status_changes"]
    pulled = next(row for row in changes if row["action"] == "start_travel")
    assert _at(str(pulled["occurred_at"])) == left
    assert _at(str(pulled["recorded_at"])) == _at(departure["recorded_at"])
    (pulled_note,) = [row for (_, table, _), row in replica.rows.items() if table == "notes"]
    assert _at(str(pulled_note["occurred_at"])) == left + 20 * MINUTE


def test_online_steps_set_the_actuals_a_dispatcher_expects(
    client: ApiClient, factories: Factories
) -> None:
    """Start of work sets actual_start once (a pause does not move it), completion sets
    actual_end, reopening clears it, and cancelling a job under way ends it."""
    scene = factories.scene()
    world, technician = scene.world, scene.technician
    tech = factories.technician_actor(world, technician)
    order = factories.work_order(world, scene.customer, scene.site)
    order = factories.advance(world, order, Status.ON_SITE, technician)
    assert (order.actual_start, order.actual_end) == (None, None)  # arrival is not work

    started = factories.transition(world, order, "start_work", tech)
    assert started.actual_start is not None and started.actual_end is None
    factories.transition(world, order, "pause", tech, reason="等配件")
    resumed = factories.transition(world, order, "resume", tech)
    assert resumed.actual_start == started.actual_start
    done = factories.transition(world, order, "complete", tech, resolution="换了电容")
    assert done.actual_start == started.actual_start
    assert done.actual_end == done.completed_at
    assert done.actual_end is not None and done.actual_end > done.actual_start

    reopened = factories.transition(world, order, "reopen", reason="客户说又坏了")
    assert (reopened.actual_start, reopened.actual_end) == (started.actual_start, None)

    other = factories.advance(
        world,
        factories.work_order(world, scene.customer, scene.site),
        Status.IN_PROGRESS,
        technician,
    )
    cancelled = factories.transition(world, other, "cancel", reason="客户取消")
    assert cancelled.actual_end == cancelled.cancelled_at
    api = client.as_(scene.dispatcher_token).get(f"/v1/work-orders/{other.id}").get_json()
    assert _at(api["actual_end"]) == cancelled.cancelled_at
    assert _at(api["actual_start"]) == other.actual_start
