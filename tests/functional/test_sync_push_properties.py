"""Properties of push through the real server (PROTOCOL.md § 7, § 8): delivery order,
duplicates and lost responses never change the outcome, and no delivery reaches an
illegal status.

Two devices of one technician (a phone and a tablet) work the same order offline,
each walking the field path as far as it got, with notes on the way. Their
batches reach the server interleaved, split at random points, some sent twice
(a response lost after the commit). The same mutations delivered in a canonical
order to a twin order must leave the same status, resolution and evidence.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from api.db import UnitOfWorkFactory
from api.workorders.models import Note, StatusChange, WorkOrder
from sync_protocol.hlc import system_ms
from sync_protocol.merge import Outcome
from sync_protocol.messages import Mutation
from sync_protocol.mutations import AddNote, TransitionWorkOrder
from sync_protocol.workorder_status import ACTIVE, RULES, Action, Status
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene
from tests.support.push import Device, new_id

PATH = [
    (Action.ACCEPT, Status.ASSIGNED),
    (Action.START_TRAVEL, Status.ACCEPTED),
    (Action.ARRIVE, Status.EN_ROUTE),
    (Action.START_WORK, Status.ON_SITE),
    (Action.PAUSE, Status.IN_PROGRESS),
    (Action.RESUME, Status.PAUSED),
    (Action.COMPLETE, Status.IN_PROGRESS),
]


@dataclass(frozen=True)
class Plan:
    """What one device did offline: how far it walked, where its notes go, its clock."""

    steps: int
    notes_after: tuple[int, ...]  # a note after the i-th step
    start_ms: int
    gap_ms: int


def _device_plans() -> st.SearchStrategy[Plan]:
    return st.builds(
        Plan,
        st.integers(0, len(PATH)),
        st.lists(st.integers(0, len(PATH)), max_size=2).map(tuple),
        st.integers(0, 600_000),
        st.integers(1, 120_000),
    )


def _mutations(device: Device, order_id: uuid.UUID, plan: Plan, name: str) -> list[Mutation]:
    base = system_ms() - 3_600_000 + plan.start_ms
    made: list[Mutation] = []
    for index in range(plan.steps + 1):
        for _ in range(plan.notes_after.count(index)):
            note = AddNote(new_id(), order_id, f"{name} note {len(made)}")
            made.append(device.mutation(note, wall_ms=base + len(made) * plan.gap_ms))
        if index < plan.steps:
            action, status = PATH[index]
            extra: dict[str, Any] = {}
            if action is Action.PAUSE:
                extra["reason"] = "等配件"
            if action is Action.COMPLETE:
                extra["resolution"] = f"done on the {name}"
            step = TransitionWorkOrder(order_id, action, status, **extra)
            made.append(device.mutation(step, wall_ms=base + len(made) * plan.gap_ms))
    return made


def _chunks(mutations: list[Mutation], cuts: list[int]) -> list[list[Mutation]]:
    points = sorted({c % (len(mutations) + 1) for c in cuts} | {0, len(mutations)})
    return [mutations[a:b] for a, b in itertools.pairwise(points) if b > a]


def _state(uow_factory: UnitOfWorkFactory, order_id: uuid.UUID) -> tuple[Any, ...]:
    with uow_factory.reader() as uow:
        order = uow.session.get_one(WorkOrder, order_id)
        notes = sorted(uow.session.scalars(select(Note.body).where(Note.work_order_id == order_id)))
        history = uow.session.execute(
            select(StatusChange.action, StatusChange.from_status, StatusChange.to_status)
            .where(StatusChange.work_order_id == order_id)
            .order_by(StatusChange.occurred_at, StatusChange.id)
        ).all()
    return order.status, order.assignee_id, order.resolution, notes, history


def _assigned(factories: Factories, scene: Scene) -> uuid.UUID:
    order = factories.work_order(scene.world, scene.customer, scene.site)
    factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    return order.id


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    phone=_device_plans(),
    tablet=_device_plans(),
    cuts=st.lists(st.integers(0, 20), max_size=4),
    schedule=st.lists(st.sampled_from(["phone", "tablet", "again"]), max_size=12),
)
def test_delivery_order_duplicates_and_lost_responses_never_change_the_outcome(
    client: ApiClient,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
    phone: Plan,
    tablet: Plan,
    cuts: list[int],
    schedule: list[str],
) -> None:
    scene = factories.scene()
    token = client.as_(scene.technician_token)
    canonical, shuffled = _assigned(factories, scene), _assigned(factories, scene)

    # Canonical: every phone mutation, then every tablet mutation, one batch each.
    for name, plan in (("phone", phone), ("tablet", tablet)):
        device = Device(token)
        batch = _mutations(device, canonical, plan, name)
        if batch:
            device.push_ok(batch)

    # Shuffled: the same intents as other devices, chunked, interleaved, some resent.
    devices = {"phone": Device(token), "tablet": Device(token)}
    queues = {
        name: _chunks(_mutations(devices[name], shuffled, plan, name), cuts)
        for name, plan in (("phone", phone), ("tablet", tablet))
    }
    sent: dict[str, list[list[Mutation]]] = {"phone": [], "tablet": []}
    for pick in [*schedule, "phone", "tablet", *["phone", "tablet"] * 8]:
        if pick == "again":
            for name in ("phone", "tablet"):
                if sent[name]:  # the last response was lost: resend it
                    _push_all_known(devices[name], sent[name][-1])
            continue
        if queues[pick]:
            chunk = queues[pick].pop(0)
            _push_all_known(devices[pick], chunk)
            sent[pick].append(chunk)

    expected, got = _state(uow_factory, canonical), _state(uow_factory, shuffled)
    assert got[:4] == expected[:4]  # status, assignee, resolution, every note once
    _assert_legal(got[4])
    event(f"final status {got[0]}")


def _push_all_known(device: Device, chunk: list[Mutation]) -> None:
    receipts = device.push_ok(chunk).receipts
    assert [r.seq for r in receipts] == [m.seq for m in chunk]
    assert all(r.status is not Outcome.CONFLICT for r in receipts)  # one technician, no office


def _assert_legal(history: list[Any]) -> None:
    """Every recorded step is a rule of the machine or one of its two replay exceptions."""
    for action, from_status, to_status in history:
        if action == "create":
            continue
        rule = RULES[Action(action)]
        # The replay exceptions of PROTOCOL.md § 8.1: a completion wins from any active
        # status (rows 10, 14, 15: the work was done on site), and start_work resumes.
        exception = (Action(action) is Action.COMPLETE and from_status in ACTIVE) or (
            Action(action) is Action.START_WORK and from_status is Status.PAUSED
        )
        assert from_status in rule.sources or exception, (action, from_status)
        assert to_status in (rule.target, rule.target_if_assigned), (action, to_status)
