"""Admission of GPS fixes: properties that hold whatever order and batching a device uses."""

from __future__ import annotations

import bisect
import math
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from dispatch.fixes import Fix, admit, advances, implied_speed

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
