"""The actuals a status machine walk leaves: work starts once, and ends when it is done."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sync_protocol.workorder_status import (
    ACTIVE,
    Action,
    Party,
    Status,
    actual_writes,
    allowed_actions,
    plan,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=40))
def test_any_walk_leaves_the_actuals_a_dispatcher_expects(choices: list[int]) -> None:
    """Over any office walk through the machine (times increasing step by step):
    ``actual_start`` is the first start of work, ever; an active order has no end; a
    completed one ends at its completion; a cancelled one at its cancel if work began."""
    status, start, end = Status.NEW, None, None
    first_start = last_complete = None
    for at, choice in enumerate(choices, start=1):
        actions = allowed_actions(status, Party.OFFICE)
        action = actions[choice % len(actions)]
        step = plan(status, action, Party.OFFICE, has_assignee=status is not Status.NEW)
        writes = actual_writes(action, start, end, at)
        start, end = writes.get("actual_start", start), writes.get("actual_end", end)
        status = step.to_status
        if action is Action.START_WORK and first_start is None:
            first_start = at
        if action is Action.COMPLETE:
            last_complete = at
        assert start == first_start
        if status in ACTIVE:
            assert end is None
        elif status in (Status.COMPLETED, Status.CLOSED):
            assert end == last_complete
        elif action is Action.CANCEL:
            assert end == (at if start is not None else None)


def test_resuming_or_arriving_never_moves_the_start() -> None:
    assert actual_writes(Action.ARRIVE, None, None, "10:00") == {}
    assert actual_writes(Action.RESUME, "09:00", None, "10:00") == {}
    assert actual_writes(Action.START_WORK, "09:00", None, "10:00") == {}  # § 8.1 row 17
    assert actual_writes(Action.START_WORK, None, None, "10:00") == {"actual_start": "10:00"}
