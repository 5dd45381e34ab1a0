"""Two offline devices and a dispatcher, interleaved by hypothesis.

Each device belongs to its own technician, keeps a local view of the order, acts
on it offline (optimistically, as the SDK does), and pushes its outbox in seq
order, sometimes losing the response and pushing again. The dispatcher acts
online on the server's current status. The server is a model of the push
engine around the real :func:`~sync_protocol.status_merge.decide` and
:func:`~sync_protocol.hlc.admit`. After every step: the status is in the
machine, an active job has an assignee, no mutation ran twice, nothing a
well-behaved device sent was rejected, and a conflict kept the device's side
only for a completion.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field, replace

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from sync_protocol.hlc import HLC, Clock, admit
from sync_protocol.merge import Outcome
from sync_protocol.status_merge import Kept, OrderStatusState, TransitionIntent, decide
from sync_protocol.workorder_status import (
    AssigneeEffect,
    Party,
    Status,
    allowed_actions,
    plan,
)
from tests.unit.sync_protocol.test_status_merge import NEEDS_ASSIGNEE, check_decision

START_MS = 1_741_700_000_000
TECHNICIANS = {"phone": uuid.UUID(int=0x71), "tablet": uuid.UUID(int=0x72)}


@dataclass
class Device:
    name: str
    technician: uuid.UUID
    clock: Clock
    view: OrderStatusState
    outbox: list[tuple[int, TransitionIntent]] = field(default_factory=list)
    next_seq: int = 1

    def holds_the_job(self) -> bool:
        return self.view.assignee_id == self.technician


class TwoDevicesAndADispatcher(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = START_MS
        self.order = OrderStatusState(Status.NEW, None, None)
        self.server_clock = Clock("server", lambda: self.now, max_drift_ms=None)
        self.devices: dict[str, Device] = {}
        self.receipts: dict[tuple[str, int], Outcome] = {}
        self.decided: Counter[tuple[str, int]] = Counter()
        self.effective: dict[str, HLC] = {}
        self.conflicts: list[Kept] = []

    @initialize(
        skews=st.fixed_dictionaries(
            {name: st.integers(-3 * 3_600_000, 3 * 3_600_000) for name in TECHNICIANS}
        )
    )
    def devices_with_their_own_clocks(self, skews: dict[str, int]) -> None:
        for name, technician in TECHNICIANS.items():
            physical = lambda skew=skews[name]: self.now + skew  # noqa: E731
            clock = Clock(name, physical, max_drift_ms=None)
            self.devices[name] = Device(name, technician, clock, self.order)

    @rule(ms=st.integers(1, 900_000))
    def time_passes(self, ms: int) -> None:
        self.now += ms

    @rule(data=st.data())
    def dispatcher_acts_online(self, data: st.DataObject) -> None:
        action = data.draw(st.sampled_from(allowed_actions(self.order.status, Party.OFFICE)))
        assignee = data.draw(st.sampled_from(list(TECHNICIANS.values())))
        intent = TransitionIntent(
            action, Party.OFFICE, self.order.status, self.server_clock.now(), assignee_id=assignee
        )
        decision = decide(self.order, intent)
        check_decision(self.order, decision)
        assert decision.outcome is Outcome.APPLIED
        self.order = decision.state

    def _can_act(self) -> list[str]:
        return sorted(
            name
            for name, device in self.devices.items()
            if device.holds_the_job() and allowed_actions(device.view.status, Party.ASSIGNEE)
        )

    @precondition(lambda self: self._can_act())
    @rule(data=st.data(), steps=st.integers(1, 4))
    def technician_works_offline(self, data: st.DataObject, steps: int) -> None:
        device = self.devices[data.draw(st.sampled_from(self._can_act()))]
        for _ in range(steps):
            options = allowed_actions(device.view.status, Party.ASSIGNEE)
            if not device.holds_the_job() or not options:
                return
            action = data.draw(st.sampled_from(options))
            intent = TransitionIntent(
                action, Party.ASSIGNEE, device.view.status, device.clock.now(), device.technician
            )
            device.outbox.append((device.next_seq, intent))
            device.next_seq += 1
            step = plan(device.view.status, action, Party.ASSIGNEE, has_assignee=True)
            assignee = None if step.assignee is AssigneeEffect.CLEAR else device.view.assignee_id
            device.view = OrderStatusState(step.to_status, assignee, intent.hlc)

    @precondition(lambda self: any(d.outbox for d in self.devices.values()))
    @rule(data=st.data(), count=st.integers(1, 5), lost=st.booleans())
    def device_pushes(self, data: st.DataObject, count: int, lost: bool) -> None:
        name = data.draw(st.sampled_from(sorted(n for n, d in self.devices.items() if d.outbox)))
        device = self.devices[name]
        batch = device.outbox[:count]
        first = [self._receive(name, seq, intent) for seq, intent in batch]
        if lost:  # the response never arrived: the SDK pushes the same batch again
            again = [self._receive(name, seq, intent) for seq, intent in batch]
            assert again == first
        del device.outbox[: len(batch)]

    @precondition(
        lambda self: any(not d.outbox and d.view != self.order for d in self.devices.values())
    )
    @rule(data=st.data())
    def device_pulls(self, data: st.DataObject) -> None:
        stale = sorted(
            n for n, d in self.devices.items() if not d.outbox and d.view != self.order
        )  # the SDK always pushes before it pulls
        device = self.devices[data.draw(st.sampled_from(stale))]
        device.view = self.order
        device.clock.observe(self.server_clock.now())

    def _receive(self, name: str, seq: int, intent: TransitionIntent) -> Outcome:
        key = (name, seq)
        if key in self.receipts:
            return self.receipts[key]
        admitted = admit(intent.hlc, self.now, self.effective.get(name))
        self.effective[name] = admitted.effective
        self.server_clock.observe(admitted.effective)
        decision = decide(self.order, replace(intent, hlc=admitted.effective))
        check_decision(self.order, decision)
        self.decided[key] += 1
        self.order = decision.state
        self.receipts[key] = decision.outcome
        if decision.conflict is not None:
            self.conflicts.append(decision.conflict.kept)
        return decision.outcome

    @invariant()
    def the_order_is_in_the_machine(self) -> None:
        assert isinstance(self.order.status, Status)
        if self.order.status in NEEDS_ASSIGNEE:
            assert self.order.assignee_id is not None
        if self.order.status is Status.NEW:
            assert self.order.assignee_id is None

    @invariant()
    def nothing_ran_twice_and_nothing_was_refused(self) -> None:
        assert all(times == 1 for times in self.decided.values())
        assert Outcome.REJECTED not in self.receipts.values()

    @invariant()
    def the_office_is_never_stuck(self) -> None:
        assert allowed_actions(self.order.status, Party.OFFICE)

    @invariant()
    def every_pushed_mutation_has_exactly_one_receipt(self) -> None:
        for name, device in self.devices.items():
            pushed = {seq for seq in range(1, device.next_seq)} - {s for s, _ in device.outbox}
            assert {seq for (owner, seq) in self.receipts if owner == name} == pushed

    @invariant()
    def only_a_completion_overrides_the_office(self) -> None:
        assert self.conflicts.count(Kept.DEVICE) <= sum(
            1 for outcome in self.receipts.values() if outcome is Outcome.CONFLICT
        )


TwoDevicesAndADispatcher.TestCase.settings = settings(
    max_examples=100, stateful_step_count=40, deadline=None
)
test_two_devices_and_a_dispatcher = TwoDevicesAndADispatcher.TestCase
