"""Hybrid logical clocks: monotonic, causal, totally ordered, sortable as text, and guarded."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync_protocol.errors import ProtocolError
from sync_protocol.hlc import (
    CLOCK_TOLERANCE_MS,
    CLOCK_WRONG_MS,
    HLC,
    MAX_COUNTER,
    SKEW_NOISE_MS,
    Clock,
    ClockVerdict,
    admit,
    estimate_skew,
    field_time,
    skew_sample,
)
from tests.unit.sync_protocol.strategies import hlcs

FAST = settings(max_examples=200, deadline=None)


def scripted(times: list[int]) -> Callable[[], int]:
    """A physical clock that plays ``times`` (which may jump backwards) and then stands still."""
    readings = iter(times)
    last = [times[0] if times else 0]

    def read() -> int:
        last[0] = next(readings, last[0])
        return last[0]

    return read


@FAST
@given(st.lists(st.integers(0, 10**13), min_size=1, max_size=50))
def test_now_is_strictly_increasing_even_when_the_physical_clock_goes_backwards(
    times: list[int],
) -> None:
    clock = Clock("dev", scripted(times), max_drift_ms=None)
    stamps = [clock.now() for _ in times]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert all(stamp.wall_ms >= time for stamp, time in zip(stamps, times, strict=True))


@FAST
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 10**13)), min_size=1, max_size=40))
def test_a_received_message_is_ordered_after_its_send_and_after_everything_local(
    steps: list[tuple[bool, int]],
) -> None:
    """Two clocks exchanging messages: every receive is later than the matching send."""
    physical = {"a": 0, "b": 0}
    clocks = {
        "a": Clock("a", lambda: physical["a"], max_drift_ms=None),
        "b": Clock("b", lambda: physical["b"], max_drift_ms=None),
    }
    last_local = {"a": clocks["a"].now(), "b": clocks["b"].now()}
    for a_sends, time in steps:
        sender, receiver = ("a", "b") if a_sends else ("b", "a")
        physical[sender] = max(physical[sender], time)
        sent = clocks[sender].now()
        received = clocks[receiver].observe(sent)
        assert received > sent and received > last_local[receiver]
        assert received.node == receiver
        last_local[sender], last_local[receiver] = sent, received


@FAST
@given(hlcs, hlcs)
def test_the_string_form_round_trips_and_sorts_like_the_values(a: HLC, b: HLC) -> None:
    assert HLC.parse(str(a)) == a
    assert (str(a) < str(b)) == (a < b)
    assert (a == b) == (str(a) == str(b))


@FAST
@given(st.text(max_size=120))
def test_the_parser_never_crashes_on_arbitrary_text(text: str) -> None:
    try:
        HLC.parse(text)
    except ProtocolError as refused:
        assert refused.code == "sync.invalid_hlc"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1741768200000-00000-dev",  # wall not padded
        "001741768200000-0-dev",  # counter not padded
        "001741768200000-00000-",  # no node
        "001741768200000-00000-dév",  # non-ASCII node
        "001741768200000-00000-dev\n",  # trailing newline
        "００1741768200000-00000-dev",  # full-width digits
        "001741768200000-00000-" + "n" * 65,
    ],
)
def test_malformed_hlcs_are_refused_with_the_field_named(text: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        HLC.parse(text, "mutations[0].hlc")
    assert refused.value.code == "sync.invalid_hlc"
    assert refused.value.field == "mutations[0].hlc"


def test_the_counter_borrows_a_millisecond_instead_of_overflowing() -> None:
    clock = Clock("dev", lambda: 5, last=HLC(5, MAX_COUNTER - 1, "dev"))
    assert clock.now() == HLC(5, MAX_COUNTER, "dev")
    assert clock.now() == HLC(6, 0, "dev")
    assert HLC(5, MAX_COUNTER, "x").successor() == HLC(6, 0, "x")


def test_observe_refuses_a_remote_time_too_far_ahead_and_changes_nothing() -> None:
    clock = Clock("server", lambda: 1_000_000)
    before = clock.now()
    with pytest.raises(ProtocolError) as refused:
        clock.observe(HLC(1_000_000 + CLOCK_TOLERANCE_MS + 1, 0, "dev"))
    assert refused.value.code == "sync.hlc_too_far_ahead"
    assert refused.value.extra["ahead_ms"] == CLOCK_TOLERANCE_MS + 1
    assert clock.last == before
    assert clock.observe(HLC(1_000_000 + CLOCK_TOLERANCE_MS, 7, "dev")).counter == 8


def test_a_clock_refuses_a_malformed_node() -> None:
    with pytest.raises(ProtocolError):
        Clock("no spaces allowed")


RECEIVE = 1_741_770_000_000


@pytest.mark.parametrize(
    ("ahead", "warnings"),
    [
        (-3_600_000, ()),
        (0, ()),
        (CLOCK_TOLERANCE_MS, ()),
        (CLOCK_TOLERANCE_MS + 1, ("sync.hlc_clamped",)),
        (CLOCK_WRONG_MS, ("sync.hlc_clamped",)),
        (CLOCK_WRONG_MS + 1, ("sync.hlc_clamped", "sync.hlc_too_far_ahead")),
    ],
)
def test_admission_clamps_far_future_timestamps_and_warns(
    ahead: int, warnings: tuple[str, ...]
) -> None:
    sent = HLC(RECEIVE + ahead, 3, "dev")
    admitted = admit(sent, RECEIVE)
    assert admitted.warnings == warnings
    if warnings:
        assert admitted.effective == HLC(RECEIVE + CLOCK_TOLERANCE_MS, 0, "dev")
    else:
        assert admitted.effective == sent


@FAST
@given(st.lists(st.integers(-(10**9), 10**10), min_size=1, max_size=20))
def test_admitted_timestamps_stay_strictly_increasing_per_device(aheads: list[int]) -> None:
    """A device's own HLCs increase; clamping several to one ceiling must not tie them."""
    clock = Clock("dev", scripted([RECEIVE + a for a in sorted(aheads)]), max_drift_ms=None)
    previous = None
    for _ in aheads:
        sent = clock.now()
        admitted = admit(sent, RECEIVE, previous)
        assert previous is None or admitted.effective > previous
        ceiling = RECEIVE + CLOCK_TOLERANCE_MS if admitted.clamped else sent.wall_ms
        assert admitted.effective.wall_ms == ceiling
        previous = admitted.effective


def test_skew_is_the_lower_median_of_recent_samples_and_judged() -> None:
    assert skew_sample(1_000, 400) == 600
    assert estimate_skew([]) == estimate_skew([]) and estimate_skew([]).samples == 0
    one_slow_request = [100, 120, -90_000, 110, 130]
    assert estimate_skew(one_slow_request).skew_ms == 110
    assert estimate_skew(one_slow_request).verdict is ClockVerdict.OK
    assert estimate_skew([0] * 10 + [CLOCK_TOLERANCE_MS + 5] * 5).verdict is ClockVerdict.SKEWED
    assert estimate_skew([-(CLOCK_WRONG_MS + 1)] * 3).verdict is ClockVerdict.WRONG
    assert estimate_skew(list(range(100))).samples == 5


MINUTE = 60_000


def test_field_time_is_when_the_device_acted_not_when_the_server_heard_of_it() -> None:
    """An offline job: steps ten minutes apart, pushed an hour later, stay ten minutes apart."""
    steps = [RECEIVE - 60 * MINUTE + n * 10 * MINUTE for n in range(4)]
    times = [field_time(HLC(wall, n, "dev"), RECEIVE) for n, wall in enumerate(steps)]
    assert times == steps


def test_field_time_corrects_a_skewed_clock_and_ignores_network_delay() -> None:
    """A phone an hour ahead (its skew measured at push) acted at its time less the hour."""
    happened = RECEIVE - 30 * MINUTE
    ahead = 60 * MINUTE
    assert field_time(HLC(happened + ahead, 0, "dev"), RECEIVE, skew_ms=ahead) == happened
    behind = -20 * MINUTE
    assert field_time(HLC(happened + behind, 0, "dev"), RECEIVE, skew_ms=behind) == happened
    delay = -SKEW_NOISE_MS  # a slow request looks like a clock behind by its latency
    assert field_time(HLC(happened, 0, "dev"), RECEIVE, skew_ms=delay) == happened


@FAST
@given(
    st.integers(0, 10**13),
    st.integers(-(10**11), 10**11),
    st.one_of(st.none(), st.integers(0, 2 * 10**12)),
)
def test_field_time_never_lies_after_receipt_nor_before_the_floor(
    wall: int, skew: int, floor: int | None
) -> None:
    """Whatever the device's clock says: never after the server had it, never before the
    step it followed (when that step is not itself after receipt)."""
    receive = 10**12
    at = field_time(HLC(wall, 0, "dev"), receive, skew_ms=skew, floor_ms=floor)
    assert at <= receive
    if floor is not None:
        assert at >= min(floor, receive)
    corrected = wall - skew if abs(skew) > SKEW_NOISE_MS else wall
    if corrected <= receive and (floor is None or corrected >= floor):
        assert at == corrected  # inside the bounds, the device's (corrected) time as is
