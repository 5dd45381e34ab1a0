"""Admission of GPS fixes: properties that hold whatever order and batching a device uses."""

from __future__ import annotations

import bisect
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dispatch.fixes import (
    Fix,
    Rules,
    _parse_fix_field_by_field,
    _refusal,
    admit,
    advances,
    implied_speed,
    parse_fix,
)

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
START = NOW - timedelta(hours=3)


class Device:
    """An in-memory store of one device's kept fixes and its current position."""

    def __init__(self) -> None:
        self.stored: list[Fix] = []
        self.current: datetime | None = None

    def send(self, batch: list[Fix]) -> None:
        times = [fix.fixed_at for fix in self.stored]

        def previous(at: datetime) -> Fix | None:
            index = bisect.bisect_left(times, at)
            return self.stored[index - 1] if index > 0 else None

        admission = admit(
            batch,
            now=NOW,
            first_seen=START,
            known_times=times,
            previous=previous,
            on_duty=lambda at: True,
        )
        self.stored = sorted([*self.stored, *admission.kept], key=lambda fix: fix.fixed_at)
        if advances(self.current, admission.newest):
            assert admission.newest is not None
            self.current = admission.newest.fixed_at


# A walk: one fix every 10-60 s, moving up to 10 m/s, so every fix is plausible.
walks = st.lists(
    st.tuples(st.integers(10, 60), st.floats(-0.00008, 0.00008), st.floats(-0.00008, 0.00008)),
    min_size=1,
    max_size=40,
)


def walk(steps: list[tuple[int, float, float]]) -> list[Fix]:
    fixes, at, lat, lon = [], START + timedelta(minutes=1), 31.23, 121.47
    for seconds, dlat, dlon in steps:
        at += timedelta(seconds=seconds)
        lat, lon = lat + dlat * seconds / 60, lon + dlon * seconds / 60
        fixes.append(Fix(fixed_at=at, lat=lat, lon=lon, accuracy_m=10))
    return fixes


@given(walks, st.randoms(use_true_random=False), st.integers(1, 8))
def test_any_order_and_batching_keeps_every_plausible_fix_once(
    steps: list[tuple[int, float, float]], rng: object, batches: int
) -> None:
    fixes = walk(steps)
    sent = list(fixes) + list(fixes[: len(fixes) // 2])  # half of it resent
    rng.shuffle(sent)  # type: ignore[attr-defined]
    device = Device()
    size = max(1, math.ceil(len(sent) / batches))
    for start in range(0, len(sent), size):
        device.send(sent[start : start + size])
    assert device.stored == fixes
    assert device.current == fixes[-1].fixed_at


@given(walks, st.integers(0, 39))
def test_a_late_batch_never_moves_the_current_position_back(
    steps: list[tuple[int, float, float]], split: int
) -> None:
    fixes = walk(steps)
    split = min(split, len(fixes) - 1)
    device = Device()
    device.send(fixes[split:])  # the recent part arrives first
    current = device.current
    device.send(fixes[:split])  # then the old part, late
    assert device.current == current == fixes[-1].fixed_at


@given(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(allow_nan=True, allow_infinity=True),
)
def test_a_fix_outside_the_globe_is_never_kept(lat: float, lon: float) -> None:
    fix = Fix(fixed_at=NOW - timedelta(minutes=1), lat=lat, lon=lon)
    admission = admit(
        [fix],
        now=NOW,
        first_seen=START,
        known_times=[],
        previous=lambda at: None,
        on_duty=lambda at: True,
    )
    on_earth = math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180
    assert bool(admission.kept) == on_earth
    if not on_earth:
        assert admission.rejected[0].code == "location.invalid_fix"


def test_accuracy_is_forgiven_before_speed_is_judged() -> None:
    a = Fix(fixed_at=NOW, lat=31.23, lon=121.47, accuracy_m=60)
    b = Fix(fixed_at=NOW + timedelta(seconds=1), lat=31.2309, lon=121.47, accuracy_m=60)
    assert implied_speed(a, b) == 0.0  # 100 m apart, 120 m of combined uncertainty
    assert implied_speed(None, b) is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)


@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"fixed_at": st.text(max_size=45), "lat": json_values, "lon": json_values},
            optional={"accuracy_m": json_values, "heading_deg": json_values, "x": json_values},
        ),
    )
)
def test_reading_any_json_gives_a_fix_or_a_reason_never_an_exception(item: object) -> None:
    assert isinstance(parse_fix(item), Fix | str)


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    st.floats(-90, 90),
    st.floats(-180, 180),
    st.none() | st.floats(0, 1e4),
    st.none() | st.floats(0, 360),
)
def test_a_fix_as_the_protocol_writes_it_reads_back_exactly(
    at: datetime, lat: float, lon: float, accuracy: float | None, heading: float | None
) -> None:
    text = at.isoformat().replace("+00:00", "Z")
    read = parse_fix(
        {"fixed_at": text, "lat": lat, "lon": lon, "accuracy_m": accuracy, "heading_deg": heading}
    )
    assert read == Fix(fixed_at=at, lat=lat, lon=lon, accuracy_m=accuracy, heading_deg=heading)


def test_what_is_not_a_fix_is_named() -> None:
    at = "2026-12-04T08:00:00Z"
    assert parse_fix({"fixed_at": at, "lat": True, "lon": 1}) == "lat: a number is required"
    assert parse_fix({"fixed_at": "2026-12-04T08:00:00", "lat": 1, "lon": 1}).startswith(
        "fixed_at: the time needs a zone"
    )
    assert parse_fix({"fixed_at": at, "lat": 1, "lon": 1, "alt": 3}) == "alt: unknown field"
    assert parse_fix([1, 2]) == "a fix is a JSON object"


any_float = st.floats(allow_nan=True, allow_infinity=True)
some_float = st.none() | any_float
wire_times = st.sampled_from(
    ["2026-12-04T08:00:00Z", "2026-12-04T16:00:00.5+08:00", "2026-12-04T08:00:00", "08:00", ""]
)


@given(
    st.fixed_dictionaries(
        {"fixed_at": wire_times | json_values, "lat": any_float, "lon": any_float},
        optional={
            "accuracy_m": some_float | json_values,
            "speed_mps": some_float,
            "heading_deg": some_float | st.integers(-5, 400),
            "altitude_m": some_float,
            "x": json_values,
        },
    )
)
def test_a_fix_read_by_the_quick_path_is_read_as_field_by_field(item: dict[str, Any]) -> None:
    assert parse_fix(item) == _parse_fix_field_by_field(item) or _nan_alike(item)


def _nan_alike(item: dict[str, Any]) -> bool:
    """NaN is never equal to itself: compare such fixes' text instead."""
    return repr(parse_fix(item)) == repr(_parse_fix_field_by_field(item))


@given(
    st.lists(
        st.tuples(
            st.integers(-200, 20),  # minutes from NOW: some too old, some in the future
            st.floats(-100, 100) | any_float,
            st.floats(-200, 200) | any_float,
            st.none() | st.floats(-10, 300) | any_float,
            some_float,
            some_float,
            some_float,
        ),
        max_size=12,
    )
)
def test_each_fix_is_refused_for_the_reason_its_own_checks_give(
    rows: list[tuple[int, float, float, float | None, float | None, float | None, float | None]],
) -> None:
    """Whatever a batch holds, a fix refused on its own is refused for the reason the
    per-fix rules give, and one they pass is never refused on its own."""
    batch = [
        Fix(NOW + timedelta(minutes=m, microseconds=i), lat, lon, acc, speed, heading, alt)
        for i, (m, lat, lon, acc, speed, heading, alt) in enumerate(rows)
    ]
    admission = admit(
        batch,
        now=NOW,
        first_seen=START,
        known_times=[],
        previous=lambda at: None,
        on_duty=lambda at: True,
    )
    alone = {r.index: r.code for r in admission.rejected if r.code != "location.implausible_speed"}
    for index, fix in enumerate(batch):
        expected = _refusal(fix, now=NOW, floor=START, rules=Rules())
        assert alone.get(index) == (expected[0] if expected else None)


def test_the_speed_check_judges_from_the_fix_before_with_accuracy_forgiven() -> None:
    a = Fix(NOW - timedelta(seconds=20), 31.23, 121.47, accuracy_m=5)
    near = Fix(NOW - timedelta(seconds=10), 31.2309, 121.47, accuracy_m=5)  # ~100 m in 10 s
    far = Fix(NOW, 31.25, 121.47, accuracy_m=5)  # ~2 km in 10 s from `near`
    admission = admit(
        [far, a, near],
        now=NOW,
        first_seen=START,
        known_times=[],
        previous=lambda at: None,
        on_duty=lambda at: True,
    )
    assert admission.kept == [a, near]
    [refused] = admission.rejected
    assert (refused.index, refused.code) == (0, "location.implausible_speed")
    speed = implied_speed(near, far)
    assert speed is not None and refused.detail.endswith(f"{speed * 3.6:.0f} km/h")
