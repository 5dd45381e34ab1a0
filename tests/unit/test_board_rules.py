"""The board's SLA colours: a pure rule, checked over random clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from api.board.rules import AT_RISK_FRACTION, SlaState, sla_state
from api.workorders.states import Status

T0 = datetime(2026, 12, 1, tzinfo=UTC)
minutes = st.integers(min_value=1, max_value=10_000)
open_statuses = st.sampled_from(
    [s for s in Status if s not in {Status.COMPLETED, Status.CLOSED, Status.CANCELLED}]
)


@given(open_statuses, minutes, st.integers(min_value=-20_000, max_value=20_000))
def test_the_colour_follows_the_clock(status: Status, window: int, elapsed: int) -> None:
    due = T0 + timedelta(minutes=window)
    now = T0 + timedelta(minutes=elapsed)
    state = sla_state(status, T0, due, now)
    if now >= due:
        assert state is SlaState.BREACHED  # paused or not: lateness stays
    elif status is Status.PAUSED:
        assert state is SlaState.PAUSED
    elif elapsed >= window * AT_RISK_FRACTION:
        assert state is SlaState.AT_RISK
    else:
        assert state is SlaState.ON_TRACK


@given(open_statuses, minutes)
def test_states_only_get_worse_as_time_passes(status: Status, window: int) -> None:
    order = [SlaState.ON_TRACK, SlaState.PAUSED, SlaState.AT_RISK, SlaState.BREACHED]
    due = T0 + timedelta(minutes=window)
    states = [sla_state(status, T0, due, T0 + timedelta(minutes=m)) for m in range(0, window + 2)]
    ranks = [order.index(s) for s in states]
    assert ranks == sorted(ranks)


def test_no_due_time_is_no_colour() -> None:
    assert sla_state(Status.NEW, T0, None, T0 + timedelta(days=9)) is SlaState.NONE
