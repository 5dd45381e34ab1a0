"""The chaos test's oracle of the merge rules: the worked examples of PROTOCOL.md § 16,
and planted wrong statuses, assignees, values and receipts that the check must catch."""

from __future__ import annotations

import ast
import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support import chaos_oracle as oracle
from tests.support.chaos_oracle import (
    DevicePatch,
    DeviceStep,
    Event,
    OfficeStep,
    OfficeWrite,
    OrderState,
    Receipt,
    arrival_key,
    compare,
    created,
    replay,
)

T, U = "tech-t", "tech-u"  # technicians
PHONE, TABLET = "phone-of-t", "tablet-of-t"
DAY = datetime(2025, 3, 12, tzinfo=UTC)
JOB = ("accept", "start_travel", "arrive", "start_work")
SOURCE = {"accept": "assigned", "start_travel": "accepted", "arrive": "en_route"}
SOURCE |= {"start_work": "on_site", "pause": "in_progress", "resume": "paused"}
SOURCE |= {"complete": "in_progress", "decline": "assigned"}


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    return DAY.replace(hour=hh, minute=mm, second=ss)


def hlc(when: datetime, node: str = PHONE) -> oracle.Hlc:
    return ((when - oracle.EPOCH) // timedelta(milliseconds=1), 0, node)


def step(
    action: str,
    made: datetime,
    arrived: datetime,
    seq: int,
    receipt: str = "applied",
    code: str | None = None,
    *,
    base: str | None = None,
    device: str = PHONE,
    tech: str = T,
    resolution: str | None = None,
) -> DeviceStep:
    stamp = hlc(made, device)
    return DeviceStep(
        tech,
        action,
        base or SOURCE[action],
        stamp,
        stamp,
        arrival_key(arrived, device, seq),
        Receipt(receipt, code),
        resolution if action != "complete" else resolution or "Seals replaced",
        f"{device} seq {seq}",
    )


def office(action: str, when: datetime, assignee: str | None = None) -> OfficeStep:
    return OfficeStep(action, when, arrival_key(when), assignee, f"office {action}")


def assigned_order() -> list[Event]:
    return [office("assign", at(8, 0), T)]


def new_order() -> OrderState:
    return created("Boiler", at(7, 0))


def offline_job(arrived: datetime, first_seq: int = 1) -> list[Event]:
    """§ 16.1: accept … start_work from 09:00, a minute apart, pushed at ``arrived``."""
    return [
        step(action, at(9, n), arrived, first_seq + n) for n, action in enumerate(JOB)
    ]  # fmt: skip


def final(events: list[Event]) -> oracle.Replayed:
    return replay(new_order(), events)


def server_row(state: OrderState) -> dict[str, object]:
    """What a database that did exactly as the rules say would hold."""
    return dict(state.view())


# --- the worked examples ------------------------------------------------------------------


def test_a_whole_offline_job_replays_to_completed_with_its_field_times() -> None:
    done = final(
        assigned_order()
        + offline_job(at(11, 0))
        + [step("complete", at(10, 12, 30), at(11, 0), 5, resolution="Seals replaced")]
    )
    assert done.problems == []
    assert done.state.status == "completed" and done.state.assignee_id == T
    assert done.state.value("actual_start") == at(9, 3)  # start_work's field time, not 11:00
    assert done.state.value("actual_end") == at(10, 12, 30)
    assert done.state.value("resolution") == "Seals replaced"
    assert done.state.view()["completed_at"] == at(10, 12, 30)


def test_complete_after_an_office_cancel_is_a_conflict_and_the_order_stays_cancelled() -> None:
    """§ 16.3: pushed 09:05 (in progress), cancelled 09:15, completion pushed 11:00."""
    events = assigned_order() + offline_job(at(9, 5))
    events += [office("cancel", at(9, 15))]
    events += [step("complete", at(10, 12), at(11, 0), 5, "conflict", "sync.concurrent_status")]
    done = final(events)
    assert done.problems == []
    assert done.state.status == "cancelled"
    assert done.state.value("actual_end") == at(9, 15)  # the cancel ends work under way
    assert done.state.view()["cancelled_at"] == at(9, 15)
    assert done.state.view()["completed_at"] is None
    assert done.state.value("resolution") is None  # kept in the conflict record only


def test_reassigned_while_offline_the_completion_wins_and_the_assignee_comes_back() -> None:
    """§ 16.6: reassigned to U at 09:10; T's whole job arrives at 11:00."""
    reassigned = "conflict", "sync.reassigned"
    events = [*assigned_order(), office("assign", at(9, 10), U)]
    events += [step(a, at(9, n), at(11, 0), n + 1, *reassigned) for n, a in enumerate(JOB)]
    events += [step("complete", at(10, 12), at(11, 0), 5, *reassigned)]
    done = final(events)
    assert done.problems == []
    assert (done.state.status, done.state.assignee_id) == ("completed", T)


def test_a_stale_edit_of_an_office_field_is_a_proposal_and_the_newer_technician_write_wins() -> (
    None
):
    """§ 16.4: T edits at 08:45 offline; the office edits both fields at 09:30."""
    patch = DevicePatch(
        T,
        {"scheduled_start": "2025-03-12T14:00:00Z", "actual_start": "2025-03-12T09:03:00Z"},
        hlc(at(8, 45)),
        arrival_key(at(11, 0), PHONE, 10),
        Receipt("conflict", "sync.field_not_owned"),
        {"scheduled_start": "proposed", "actual_start": "superseded"},
    )
    edit = OfficeWrite(
        {"scheduled_start": "2025-03-12T16:00:00Z", "actual_start": "2025-03-12T09:05:00Z"},
        arrival_key(at(9, 30)),
    )
    done = final([*assigned_order(), edit, patch])
    assert done.problems == []
    assert done.state.value("scheduled_start") == at(16, 0)
    assert done.state.value("actual_start") == at(9, 5)


def test_complete_from_in_progress_after_the_other_device_paused_is_merged() -> None:
    """Row 14: the phone paused and synced; the tablet, which still showed in progress,
    completes."""
    events = assigned_order() + offline_job(at(9, 5))
    events += [step("pause", at(9, 20), at(9, 21), 5)]
    events += [step("complete", at(9, 19), at(9, 30), 1, "merged", device=TABLET)]
    done = final(events)
    assert done.problems == []
    assert done.state.status == "completed"


# --- rules the run relies on --------------------------------------------------------------


def test_one_technicians_two_devices_converge_whatever_the_arrival_order() -> None:
    """§ 8.1 Convergence: the final status depends only on the set of steps."""
    phone = [step(a, at(9, n), at(9, 0), n) for n, a in enumerate(JOB)]
    tablet = [
        step("accept", at(9, 0, 30), at(9, 0), 0, device=TABLET),
        step("start_travel", at(9, 1, 30), at(9, 0), 1, device=TABLET),
    ]
    seen = set()
    for order in itertools.permutations(phone + tablet):
        if not _seq_ordered(list(order)):
            continue
        events = [
            replace(e, key=arrival_key(at(10, 0) + timedelta(seconds=n)), receipt=Receipt("any"))
            for n, e in enumerate(order)
        ]
        done = replay(new_order(), [*assigned_order(), *events])
        seen.add((done.state.status, done.state.assignee_id))
    assert seen == {("in_progress", T)}


def _seq_ordered(events: list[DeviceStep]) -> bool:
    """A device's own steps arrive in the order it made them."""
    for device in (PHONE, TABLET):
        mine = [e.sent for e in events if e.ref.startswith(device)]
        if mine != sorted(mine):
            return False
    return True


def test_in_progress_and_paused_are_a_register_ordered_by_hlc() -> None:
    """Row 17: a pause made before a resume that already arrived is superseded."""
    events = assigned_order() + offline_job(at(9, 5))
    events += [step("pause", at(9, 30), at(9, 31), 5)]
    events += [step("resume", at(9, 40), at(9, 41), 6)]
    late = step("pause", at(9, 35), at(9, 50), 1, "duplicate", base="in_progress", device=TABLET)
    done = final([*events, late])
    assert done.problems == []
    assert done.state.status == "in_progress"


def test_field_time_is_never_before_the_step_it_was_taken_from() -> None:
    """§ 7.3 floor: a start_work stamped before the arrival it follows occurs at the arrival."""
    events = assigned_order() + offline_job(at(9, 5))[:3]
    events += [step("start_work", at(9, 1), at(9, 6), 9, device=TABLET, base="on_site")]
    done = final(events)
    assert done.problems == []
    assert done.state.value("actual_start") == at(9, 2)  # 'arrive' reached on_site at 09:02


def test_decline_hands_the_order_back_unassigned() -> None:
    done = final([*assigned_order(), step("decline", at(9, 0), at(9, 1), 1)])
    assert done.problems == []
    assert (done.state.status, done.state.assignee_id) == ("new", None)


def test_not_in_scope_is_accepted_only_for_an_order_the_technician_no_longer_holds() -> None:
    refused = "rejected", "sync.not_in_scope"
    gone = [*assigned_order(), office("assign", at(9, 0), U)]
    assert final([*gone, step("accept", at(9, 5), at(9, 6), 1, *refused)]).problems == []
    held = final([*assigned_order(), step("accept", at(9, 5), at(9, 6), 1, *refused)])
    assert any("not_in_scope on their own order" in p for p in held.problems)


def test_an_office_step_the_machine_forbids_is_reported() -> None:
    done = final([office("start_work", at(9, 0))])
    assert any("office start_work took effect from new" in p for p in done.problems)


# --- planted mistakes the check must catch ------------------------------------------------


def _completed_job() -> oracle.Replayed:
    return final(
        assigned_order()
        + offline_job(at(11, 0))
        + [step("complete", at(10, 12), at(11, 0), 5, resolution="Seals replaced")]
    )


def test_a_server_that_did_as_the_rules_say_passes() -> None:
    done = _completed_job()
    assert compare("W", done.state, server_row(done.state)) == []


def test_a_planted_wrong_status_is_caught() -> None:
    done = _completed_job()
    row = server_row(done.state) | {"status": "in_progress"}
    assert any("status is 'in_progress'" in p for p in compare("W", done.state, row))


def test_a_planted_wrong_assignee_is_caught() -> None:
    done = _completed_job()
    row = server_row(done.state) | {"assignee_id": U}
    assert any("assignee_id" in p for p in compare("W", done.state, row))


def test_planted_wrong_values_are_caught() -> None:
    done = _completed_job()
    for name, wrong in [
        ("resolution", "Nothing done"),
        ("actual_start", at(9, 3, 1)),
        ("actual_end", None),
        ("scheduled_start", at(16, 0)),
        ("title", "Chiller"),
        ("completed_at", None),
        ("cancelled_at", at(10, 12)),
    ]:
        row = server_row(done.state) | {name: wrong}
        assert any(name in p for p in compare("W", done.state, row)), name


def test_naive_timestamps_from_plain_sql_compare_as_utc() -> None:
    done = _completed_job()
    start = done.state.value("actual_start")
    row = server_row(done.state) | {"actual_start": start.replace(tzinfo=None)}
    assert compare("W", done.state, row) == []


def test_a_planted_wrong_receipt_is_caught() -> None:
    """A completion that silently overwrote a cancel would have been 'applied'."""
    events = assigned_order() + offline_job(at(9, 5))
    events += [office("cancel", at(9, 15)), step("complete", at(10, 12), at(11, 0), 5)]
    done = final(events)
    assert any("rules say conflict/sync.concurrent_status" in p for p in done.problems)


def test_a_planted_applied_proposal_is_caught() -> None:
    patch = DevicePatch(
        T,
        {"title": "Building 2"},
        hlc(at(9, 0)),
        arrival_key(at(9, 1), PHONE, 1),
        Receipt("applied"),
        {"title": "applied"},
    )
    done = final([*assigned_order(), patch])
    assert done.state.value("title") == "Boiler"
    assert len(done.problems) == 2  # the receipt's status and its field outcome


def test_the_oracle_does_not_borrow_the_servers_merge_code() -> None:
    """Written from PROTOCOL.md alone: importing sync_protocol or api would make the
    check agree with the code it checks."""
    tree = ast.parse(Path(oracle.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {m for m in imported if m.split(".")[0] in ("sync_protocol", "api", "client_sdk")}


# --- field times the server recorded ------------------------------------------------------


def _start_work_recorded(when: datetime) -> oracle.Replayed:
    """The job pushed at 09:05; the server recorded each step's field time."""
    recorded = [("accepted", at(9, 0)), ("en_route", at(9, 1)), ("on_site", at(9, 2))]
    return replay(
        new_order(),
        assigned_order() + offline_job(at(9, 5)),
        oracle.Recorded([*recorded, ("in_progress", when)]),
    )


def test_a_recorded_field_time_within_the_rules_bounds_is_what_the_actuals_must_show() -> None:
    """Corrected for an estimated skew, start_work may occur up to the push's arrival."""
    done = _start_work_recorded(at(9, 4, 30))
    assert done.problems == []
    assert done.state.value("actual_start") == at(9, 4, 30)


def test_a_recorded_field_time_before_the_device_acted_is_caught() -> None:
    done = _start_work_recorded(at(9, 2, 59))
    assert any("start_work recorded at" in p for p in done.problems)


def test_a_recorded_field_time_after_the_server_had_it_is_caught() -> None:
    done = _start_work_recorded(at(9, 5, 1))
    assert any("start_work recorded at" in p for p in done.problems)


def test_a_history_row_no_step_explains_is_caught() -> None:
    rows = oracle.Recorded([("accepted", at(9, 0)), ("completed", at(9, 9))])
    done = replay(new_order(), [*assigned_order(), step("accept", at(9, 0), at(9, 1), 1)], rows)
    assert any("history rows no device step explains" in p for p in done.problems)
