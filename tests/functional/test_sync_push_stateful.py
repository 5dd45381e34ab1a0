"""A stateful test of push (PROTOCOL.md § 7, § 8): two offline devices and a dispatcher.

The technician's phone and tablet each act on their own view of one order
(field steps, notes), sync when they like, and sometimes lose a push response
after the commit; meanwhile the dispatcher cancels, reassigns, reopens and
reschedules online. Whatever the interleaving:

- every push answers each mutation once, a resent batch gets the same receipts;
- every ``conflict`` receipt names a conflict record, every ``rejected`` one a
  quarantine entry, and nothing else creates either;
- no note is stored twice, and every acknowledged note is stored;
- the order only ever moved by a rule of the state machine (or its two replay
  exceptions), so it never reaches a status the machine does not allow.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from api.db import UnitOfWorkFactory
from api.sync.models import SyncConflict, SyncQuarantine
from api.workorders.models import Note, StatusChange, WorkOrder
from sync_protocol.merge import Outcome
from sync_protocol.messages import Mutation
from sync_protocol.mutations import AddNote, PatchWorkOrder, TransitionWorkOrder
from sync_protocol.workorder_status import RULES, Action, Party, Status, allowed_actions
from tests.functional.test_sync_push_properties import _assert_legal
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.push import Device, new_id

FIELD_STEPS = [
    Action.ACCEPT,
    Action.START_TRAVEL,
    Action.ARRIVE,
    Action.START_WORK,
    Action.PAUSE,
    Action.RESUME,
    Action.COMPLETE,
]
_NEEDS = {Action.PAUSE: "reason", Action.COMPLETE: "resolution", Action.DECLINE: "reason"}


def test_two_offline_devices_and_a_dispatcher(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    other = factories.technician(scene.world)
    technician = client.as_(scene.technician_token)

    class Fieldwork(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            order = factories.work_order(scene.world, scene.customer, scene.site)
            order = factories.transition(
                scene.world, order, "assign", assignee_id=scene.technician.id
            )
            self.order_id = order.id
            self.devices = {"phone": Device(technician), "tablet": Device(technician)}
            self.views = {"phone": Status.ASSIGNED, "tablet": Status.ASSIGNED}
            self.outboxes: dict[str, list[Mutation]] = {"phone": [], "tablet": []}
            self.notes_acknowledged: set[str] = set()
            self.conflicts = 0
            self.rejected = 0

        # -- the devices, offline -------------------------------------------------
        @rule(name=st.sampled_from(["phone", "tablet"]), pick=st.integers(0, 6))
        def field_step(self, name: str, pick: int) -> None:
            view = self.views[name]
            possible = [a for a in allowed_actions(view, Party.ASSIGNEE) if a in FIELD_STEPS]
            if not possible:
                return
            action = possible[pick % len(possible)]
            extra: dict[str, Any] = {}
            if action in _NEEDS:
                extra[_NEEDS[action]] = f"{action} on the {name}"
            step = TransitionWorkOrder(self.order_id, action, view, **extra)
            self.outboxes[name].append(self.devices[name].mutation(step))
            self.views[name] = _target(action)

        @rule(name=st.sampled_from(["phone", "tablet"]))
        def note(self, name: str) -> None:
            note = AddNote(new_id(), self.order_id, f"seen on the {name}")
            self.outboxes[name].append(self.devices[name].mutation(note))

        @rule(name=st.sampled_from(["phone", "tablet"]))
        def propose_schedule(self, name: str) -> None:
            patch = PatchWorkOrder(self.order_id, {"scheduled_start": "2031-01-01T09:00:00Z"})
            self.outboxes[name].append(self.devices[name].mutation(patch))

        # -- syncing ----------------------------------------------------------------
        @rule(name=st.sampled_from(["phone", "tablet"]), lose_response=st.booleans())
        def sync(self, name: str, lose_response: bool) -> None:
            batch = self.outboxes[name]
            if batch:
                first = self.devices[name].push_ok(batch)
                if lose_response:  # committed, but the phone never heard: it resends
                    again = self.devices[name].push_ok(batch)
                    assert again.receipts == first.receipts
                assert [r.seq for r in first.receipts] == [m.seq for m in batch]
                for mutation, receipt in zip(batch, first.receipts, strict=True):
                    self._account(mutation, receipt)
                self.outboxes[name] = []
            self.views[name] = self._server_status()  # the pull brings the server's view

        def _account(self, mutation: Mutation, receipt: Any) -> None:
            if receipt.status is Outcome.CONFLICT:
                assert receipt.conflict_ids
                self.conflicts += 1
            if receipt.status is Outcome.REJECTED:
                self.rejected += 1
            if mutation.name == "add_note" and receipt.status is Outcome.APPLIED:
                self.notes_acknowledged.add(str(mutation.args["id"]))

        # -- the dispatcher, online ---------------------------------------------------
        @rule(choice=st.sampled_from(["cancel", "reassign", "back", "reopen", "close"]))
        def dispatcher(self, choice: str) -> None:
            status = self._server_status()
            command: dict[str, Any] = {}
            if choice == "cancel" and status in allowed_sources(Action.CANCEL):
                command = {"action": "cancel", "reason": "客户取消"}
            elif choice in ("reassign", "back") and status in allowed_sources(Action.ASSIGN):
                who = other.id if choice == "reassign" else scene.technician.id
                command = {"action": "assign", "assignee_id": who}
            elif choice == "reopen" and status in allowed_sources(Action.REOPEN):
                command = {"action": "reopen", "reason": "复查"}
            elif choice == "close" and status in allowed_sources(Action.CLOSE):
                command = {"action": "close"}
            if command:
                action = command.pop("action")
                factories.transition(scene.world, self.order_id, action, **command)

        # -- what must always hold --------------------------------------------------
        @invariant()
        def conflicts_and_quarantine_match_the_receipts(self) -> None:
            with uow_factory.reader() as uow:
                conflicts = uow.session.scalar(
                    select(func.count()).where(SyncConflict.entity_id == self.order_id)
                )
                parked = uow.session.scalar(
                    select(func.count()).where(SyncQuarantine.work_order_id == self.order_id)
                )
            assert (conflicts, parked) == (self.conflicts, self.rejected)

        @invariant()
        def every_acknowledged_note_is_stored_once(self) -> None:
            with uow_factory.reader() as uow:
                stored = [
                    str(i)
                    for i in uow.session.scalars(
                        select(Note.id).where(Note.work_order_id == self.order_id)
                    )
                ]
            assert len(stored) == len(set(stored))
            assert set(stored) == self.notes_acknowledged

        @invariant()
        def the_order_only_moved_by_the_rules(self) -> None:
            with uow_factory.reader() as uow:
                history = uow.session.execute(
                    select(StatusChange.action, StatusChange.from_status, StatusChange.to_status)
                    .where(StatusChange.work_order_id == self.order_id)
                    # A synced step is never dated before the step the order was at, but
                    # may share its time: then the later recorded is the later step.
                    .order_by(StatusChange.occurred_at, StatusChange.recorded_at, StatusChange.id)
                ).all()
                status = uow.session.get_one(WorkOrder, self.order_id).status
            _assert_legal(history)
            assert history[-1][2] is status

        def teardown(self) -> None:
            event(f"conflicts: {'some' if self.conflicts else 'none'}")
            event(f"quarantined: {'some' if self.rejected else 'none'}")
            event(f"ended {self._server_status()}")

        def _server_status(self) -> Status:
            with uow_factory.reader() as uow:
                return uow.session.get_one(WorkOrder, self.order_id).status

    run_state_machine_as_test(
        Fieldwork,
        settings=settings(
            max_examples=20,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


def allowed_sources(action: Action) -> frozenset[Status]:
    return frozenset(RULES[action].sources)


def _target(action: Action) -> Status:
    return RULES[action].target
