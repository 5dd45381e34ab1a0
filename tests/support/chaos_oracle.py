"""An oracle of the merge rules: what every work order must look like after a chaos run.

Given what the office and each device did to an order, in the order the server
took them (:class:`OfficeStep`, :class:`OfficeWrite`, :class:`DeviceStep`,
:class:`DevicePatch`), :func:`replay` computes the order's final status,
assignee, office fields (``title``, ``scheduled_start``) and technician fields
(``resolution``, ``actual_start``, ``actual_end``), the stamps of final statuses
(``completed_at``, ``closed_at``, ``cancelled_at``), and the receipt status (and
conflict code) every device mutation must have had.

It is written from PROTOCOL.md § 7.3, § 8.1 and § 8.2 alone and deliberately
imports nothing of ``sync_protocol`` or the server: if the server's merge code
and this page disagree, one of them is wrong. It restates the rules in the
plainest form (an ``if`` per row of the § 8.1 table).

What the oracle takes from the run rather than deciding itself:

- the *arrival order* per order: the server serialises every change of an order
  behind its row lock and stamps, while holding it, a push's receipts
  (``sync_receipts.created_at``) and an office step's history row
  (``recorded_at``); :func:`arrival_key` sorts by those stamps;
- which office requests took effect (an office request is answered at once, so
  the office knows; one interrupted by a restart is matched with the history);
- access (§ 5.3): a mutation on an order the technician no longer holds is
  refused ``sync.not_in_scope`` once the device has pulled the order's departure,
  which depends on pull timing the harness does not log. Such a refusal is
  accepted only when the oracle agrees the technician no longer holds the order;
- field time (§ 7.3): the server's correction by an estimated skew depends on
  the latency of the device's last requests, so the oracle bounds each step's
  recorded time (:class:`Recorded`) and then requires the actuals to equal it
  exactly. Office steps occur when
  the server says (their history row's ``occurred_at``), and their HLC is taken
  as that instant (it only ever competes with device HLCs milliseconds apart in
  a way the run never produces: the office writes no technician field but
  ``actual_end`` on cancel, which no device write can follow).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ZERO_HLC = (0, 0, "")

# The status machine (§ 8.1 table): action -> (sources, target).
SOURCES: dict[str, tuple[frozenset[str], str | None]] = {
    "assign": (frozenset({"new", "assigned", "accepted"}), "assigned"),
    "unassign": (frozenset({"assigned", "accepted"}), "new"),
    "accept": (frozenset({"assigned"}), "accepted"),
    "decline": (frozenset({"assigned"}), "new"),
    "start_travel": (frozenset({"accepted"}), "en_route"),
    "arrive": (frozenset({"en_route"}), "on_site"),
    "start_work": (frozenset({"on_site"}), "in_progress"),
    "pause": (frozenset({"in_progress"}), "paused"),
    "resume": (frozenset({"paused"}), "in_progress"),
    "complete": (frozenset({"in_progress"}), "completed"),
    "close": (frozenset({"completed"}), "closed"),
    "cancel": (
        frozenset({"new", "assigned", "accepted", "en_route", "on_site", "in_progress", "paused"}),
        "cancelled",
    ),
    "reopen": (frozenset({"completed", "closed", "cancelled"}), None),  # assigned or new
}
TECHNICIAN_ACTIONS = frozenset(
    {"accept", "decline", "start_travel", "arrive", "start_work", "pause", "resume", "complete"}
)
ACTIVE = SOURCES["cancel"][0]
RANK = {
    "assigned": 1,
    "accepted": 2,
    "en_route": 3,
    "on_site": 4,
    "in_progress": 5,
    "paused": 5,
    "completed": 6,
    "closed": 7,
}
OFFICE_FIELDS = frozenset(
    {
        "title",
        "description",
        "category_id",
        "priority",
        "requested_start",
        "requested_end",
        "scheduled_start",
        "scheduled_end",
    }
)
TECHNICIAN_FIELDS = frozenset({"resolution", "actual_start", "actual_end"})
TIME_FIELDS = frozenset({"scheduled_start", "actual_start", "actual_end"})
CHECKED = (
    "status",
    "assignee_id",
    "title",
    "scheduled_start",
    "resolution",
    "actual_start",
    "actual_end",
    "completed_at",
    "closed_at",
    "cancelled_at",
)
STAMPS = {"completed": "completed_at", "closed": "closed_at", "cancelled": "cancelled_at"}

Hlc = tuple[int, int, str]


def parse_hlc(text: str) -> Hlc:
    """``wall-counter-node`` (§ 3.4); the node may itself contain dashes."""
    wall, counter, node = text.split("-", 2)
    return (int(wall), int(counter), node)


def wall_time(hlc: Hlc) -> datetime:
    return EPOCH + timedelta(milliseconds=hlc[0])


def ceil_ms(when: datetime) -> datetime:
    micros = (when - EPOCH) // timedelta(microseconds=1)
    return EPOCH + timedelta(milliseconds=-(-micros // 1000))


def parse_value(name: str, value: Any) -> Any:
    """A wire value as the oracle keeps it (timestamps as aware datetimes)."""
    if name in TIME_FIELDS and isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def _canonical(value: Any) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(UTC).isoformat()
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --- what happened ------------------------------------------------------------------------


@dataclass(frozen=True)
class OfficeStep:
    """An office transition that took effect (online, so it is never merged)."""

    action: str
    occurred_at: datetime
    key: tuple[Any, ...]
    assignee_id: str | None = None
    ref: str = "office"


@dataclass(frozen=True)
class OfficeWrite:
    """An office edit of fields that took effect (REST ``PATCH``)."""

    fields: dict[str, Any]
    key: tuple[Any, ...]
    ref: str = "office"


@dataclass(frozen=True)
class Receipt:
    status: str
    code: str | None = None


@dataclass(frozen=True)
class DeviceStep:
    """A ``transition_work_order`` from a technician's device, with the receipt it got."""

    technician_id: str
    action: str
    base_status: str
    hlc: Hlc  # effective (the receipt's)
    sent: Hlc  # as sent (field time)
    key: tuple[Any, ...]
    receipt: Receipt
    resolution: str | None = None
    ref: str = "device"


@dataclass(frozen=True)
class DevicePatch:
    """A ``patch_work_order`` from a technician's device, with the receipt it got."""

    technician_id: str
    fields: dict[str, Any]
    hlc: Hlc
    key: tuple[Any, ...]
    receipt: Receipt
    field_outcomes: dict[str, str] = field(default_factory=dict)
    ref: str = "device"


Event = OfficeStep | OfficeWrite | DeviceStep | DevicePatch


def arrival_key(stamp: datetime, device: str = "", seq: int = 0) -> tuple[Any, ...]:
    """Sort key of an event: the server's stamp under the order's lock, then the device's seq."""
    return (aware(stamp), device, seq)


def aware(when: datetime) -> datetime:
    """Timestamps read by plain SQL may come back naive (SQLite): they are UTC."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


# --- the order as the rules see it --------------------------------------------------------


@dataclass(frozen=True)
class Register:
    value: Any
    hlc: Hlc = ZERO_HLC
    party: str = ""


@dataclass
class OrderState:
    status: str
    assignee_id: str | None
    status_hlc: Hlc
    registers: dict[str, Register]
    reached: dict[str, datetime]  # status -> latest field time the order reached it
    stamps: dict[str, datetime | None] = field(default_factory=dict)  # completed_at …

    def value(self, name: str) -> Any:
        return self.registers.get(name, Register(None)).value

    def view(self) -> dict[str, Any]:
        shown = {name: self.value(name) for name in CHECKED}
        shown["status"], shown["assignee_id"] = self.status, self.assignee_id
        shown.update({name: self.stamps.get(name) for name in STAMPS.values()})
        return shown

    def write(self, name: str, value: Any, hlc: Hlc, party: str) -> str:
        """LWW (§ 8.2): the greater ``(hlc, canonical value, party)`` holds the field."""
        current = self.registers.get(name, Register(None))
        incoming = (hlc, _canonical(value), party)
        held = (current.hlc, _canonical(current.value), current.party)
        if incoming == held:
            return "duplicate"
        if incoming < held:
            return "superseded"
        self.registers[name] = Register(value, hlc, party)
        return "applied"

    def move(self, status: str, at: datetime) -> None:
        """A status change at field time ``at``: it stamps a final status (§ 8.1 table)."""
        self.status = status
        self.reached[status] = max(at, self.reached.get(status, at))
        if status in STAMPS:
            self.stamps[STAMPS[status]] = at


def created(title: str, at: datetime, fields: dict[str, Any] | None = None) -> OrderState:
    """An order created online: ``new``, unassigned, its fields as given (stamped at creation)."""
    registers = {"title": Register(title)}
    for name, value in (fields or {}).items():
        registers[name] = Register(parse_value(name, value))
    return OrderState("new", None, ZERO_HLC, registers, {"new": at})


@dataclass
class Replayed:
    state: OrderState
    problems: list[str] = field(default_factory=list)


class Recorded:
    """The field times the server recorded for the devices' steps on one order.

    § 7.3 corrects a device's time by its estimated skew when that estimate is over
    5 s, and a server slow enough to answer 5 s late makes network delay look like
    skew. The rules still bound the result: never before the HLC's wall time or the
    step's floor (this host's clock is every device's), never after the server
    received it (at most the receipt's stamp). So when the history is given the
    oracle checks each step's recorded time against those bounds and goes on with
    it (the actuals must then equal it exactly); without it, the lower bound is used.
    """

    def __init__(self, rows: list[tuple[str, datetime]]) -> None:
        self.rows = list(rows)  # (to_status, occurred_at) in the order recorded

    def take(self, status: str) -> datetime | None:
        for n, (to_status, occurred) in enumerate(self.rows):
            if to_status == status:
                del self.rows[n]
                return occurred
        return None


def replay(initial: OrderState, events: list[Event], recorded: Recorded | None = None) -> Replayed:
    """Apply ``events`` in arrival order; problems name receipts the rules contradict.

    ``recorded``: the server's field times of the devices' steps (:class:`Recorded`);
    each must be within the rules' bounds, and every one must be accounted for.
    """
    state = replace(
        initial,
        registers=dict(initial.registers),
        reached=dict(initial.reached),
        stamps=dict(initial.stamps),
    )
    done = Replayed(state)
    for event in sorted(events, key=lambda e: e.key):
        if isinstance(event, OfficeStep):
            _office_step(state, event, done.problems)
        elif isinstance(event, OfficeWrite):
            office_hlc = (event.key[0] - EPOCH) // timedelta(milliseconds=1)
            for name, value in event.fields.items():
                state.write(name, parse_value(name, value), (office_hlc, 0, "server"), "office")
        elif isinstance(event, DeviceStep):
            _device_step(state, event, done.problems, recorded)
        else:
            _device_patch(state, event, done.problems)
    if recorded is not None and recorded.rows:
        done.problems.append(f"history rows no device step explains: {recorded.rows}")
    return done


def _office_step(state: OrderState, step: OfficeStep, problems: list[str]) -> None:
    sources, target = SOURCES[step.action]
    if state.status not in sources:
        problems.append(f"{step.ref}: office {step.action} took effect from {state.status}")
    if step.action == "reopen":
        target = "assigned" if state.assignee_id else "new"
        state.stamps.clear()  # reopening clears completed_at, closed_at, cancelled_at
    assert target is not None
    hlc = ((step.occurred_at - EPOCH) // timedelta(milliseconds=1), 0, "server")
    _actuals(state, step.action, step.occurred_at, hlc, "office")
    if step.action == "assign":
        state.assignee_id = step.assignee_id
    elif step.action in ("unassign", "decline"):
        state.assignee_id = None
    state.move(target, step.occurred_at)
    state.status_hlc = hlc


def _actuals(state: OrderState, action: str, at: datetime, hlc: Hlc, party: str) -> None:
    """§ 8.1 Actuals: what a status change writes, as LWW writes at the step's HLC."""
    start, end = state.value("actual_start"), state.value("actual_end")
    if action == "start_work" and start is None:
        state.write("actual_start", at, hlc, party)
    elif action == "complete" or (action == "cancel" and start is not None and end is None):
        state.write("actual_end", at, hlc, party)
    elif action == "reopen" and end is not None:
        state.write("actual_end", None, hlc, party)


@dataclass(frozen=True)
class Decision:
    status: str  # receipt status
    code: str | None = None
    moves_to: str | None = None  # a status change (with history, actuals)
    assignee: str | None = None  # with moves_to: the order's assignee afterwards
    kept_device: bool = True  # False: a conflict the server side won
    restamp: bool = False  # row 17's duplicate that moves the status's HLC on


def decide(state: OrderState, step: DeviceStep) -> Decision:
    """§ 8.1 for a technician's step, first matching row wins."""
    s, base, action, tech = state.status, step.base_status, step.action, step.technician_id
    if action not in TECHNICIAN_ACTIONS:
        return Decision("rejected", "sync.transition_forbidden")  # row 1
    sources, target = SOURCES[action]
    if base not in sources:
        return Decision("rejected", "sync.illegal_transition")  # row 2
    assert target is not None
    own = state.assignee_id == tech
    concurrent = Decision("conflict", "sync.concurrent_status", kept_device=False)
    if action == "decline":
        if not own or s in ("new", "cancelled"):
            return Decision("duplicate")  # row 6
        if s == base:
            return Decision("applied", moves_to="new", assignee=None)  # row 7
        return concurrent  # row 8
    if s == "cancelled":
        return concurrent  # row 9
    if not own:
        if action == "complete" and s in ACTIVE:  # row 10: the completion wins
            return Decision("conflict", "sync.reassigned", moves_to="completed", assignee=tech)
        return Decision("conflict", "sync.reassigned", kept_device=False)  # row 11
    if action == "complete":
        if s in ("completed", "closed"):
            return Decision("duplicate")  # row 12
        if s == base:
            return Decision("applied", moves_to="completed", assignee=tech)  # row 13
        if s == "paused" and base == "in_progress":
            return Decision("merged", moves_to="completed", assignee=tech)  # row 14
        return Decision(  # row 15: the office moved it back; the completion still wins
            "conflict", "sync.concurrent_status", moves_to="completed", assignee=tech
        )
    if RANK.get(s, 0) > RANK[target]:
        return Decision("duplicate")  # row 16
    if RANK.get(s) == RANK[target] == 5:  # row 17: a register ordered by HLC
        if step.hlc <= state.status_hlc:
            return Decision("duplicate")
        if s == target:
            return Decision("duplicate", restamp=True)
        return Decision("applied" if s == base else "merged", moves_to=target, assignee=tech)
    if RANK.get(s) == RANK[target]:
        return Decision("duplicate")  # row 18
    if s == base:
        return Decision("applied", moves_to=target, assignee=tech)  # row 19
    return concurrent  # row 20


def _device_step(
    state: OrderState, step: DeviceStep, problems: list[str], recorded: Recorded | None
) -> None:
    got = step.receipt
    if got.status == "rejected" and got.code == "sync.not_in_scope":
        if state.assignee_id == step.technician_id:
            problems.append(f"{step.ref}: {step.action} refused not_in_scope on their own order")
        return
    decision = decide(state, step)
    expected = (decision.status, decision.code)
    if (got.status, got.code if expected[1] else None) != expected:
        problems.append(
            f"{step.ref}: {step.action} from {step.base_status} on {state.status} "
            f"(assignee {'own' if state.assignee_id == step.technician_id else 'other'}): "
            f"receipt {got.status}/{got.code}, rules say {expected[0]}/{expected[1]}"
        )
    if decision.restamp:
        state.status_hlc = step.hlc
    if decision.moves_to is not None:
        floor = state.reached.get(step.base_status)
        at = wall_time(step.sent)
        if floor is not None:
            at = max(at, ceil_ms(floor))
        if recorded is not None:
            found = recorded.take(decision.moves_to)
            if found is None:
                problems.append(f"{step.ref}: {step.action} moved the order, no history row")
            elif not at <= found <= step.key[0]:
                problems.append(
                    f"{step.ref}: {step.action} recorded at {found}, "
                    f"the rules say between {at} and its receipt at {step.key[0]}"
                )
            else:
                at = found
        _actuals(state, step.action, at, step.hlc, "technician")
        state.assignee_id = decision.assignee
        state.move(decision.moves_to, at)
        state.status_hlc = step.hlc
    keeps = decision.kept_device and decision.status != "rejected"
    if step.action == "complete" and step.resolution is not None and keeps:
        state.write("resolution", step.resolution, step.hlc, "technician")


def _device_patch(state: OrderState, patch: DevicePatch, problems: list[str]) -> None:
    got = patch.receipt
    if got.status == "rejected" and got.code == "sync.not_in_scope":
        if state.assignee_id == patch.technician_id:
            problems.append(f"{patch.ref}: patch refused not_in_scope on their own order")
        return
    outcomes: dict[str, str] = {}
    for name, value in sorted(patch.fields.items()):
        if name in OFFICE_FIELDS:
            outcomes[name] = "proposed"  # never applied, whatever the clocks say
        elif name in TECHNICIAN_FIELDS:
            outcomes[name] = state.write(name, parse_value(name, value), patch.hlc, "technician")
        else:
            outcomes[name] = "read_only"
    if "read_only" in outcomes.values():
        expected = ("rejected", "sync.field_read_only")
    elif "proposed" in outcomes.values():
        expected = ("conflict", "sync.field_not_owned")
    elif set(outcomes.values()) == {"applied"}:
        expected = ("applied", None)
    elif set(outcomes.values()) == {"duplicate"}:
        expected = ("duplicate", None)
    else:
        expected = ("merged", None)
    if (got.status, got.code if expected[1] else None) != expected:
        problems.append(
            f"{patch.ref}: patch {sorted(patch.fields)}: receipt {got.status}/{got.code}, "
            f"rules say {expected[0]}/{expected[1]}"
        )
    if patch.field_outcomes and patch.field_outcomes != outcomes:
        problems.append(f"{patch.ref}: fields {patch.field_outcomes}, rules say {outcomes}")


def compare(order: str, expected: OrderState, actual: dict[str, Any]) -> list[str]:
    """Every checked value of the order that differs from what the rules give."""
    problems = []
    for name, want in expected.view().items():
        have = actual.get(name)
        if isinstance(have, datetime) and have.tzinfo is None:
            have = have.replace(tzinfo=UTC)
        if have is not None and name == "assignee_id":
            have = str(have)
        if have != want:
            problems.append(f"order {order}: {name} is {have!r}, the rules say {want!r}")
    return problems
