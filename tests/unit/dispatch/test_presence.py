"""Time at a place from the fixes inside it: gaps are no evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from dispatch.fixes import Fix
from dispatch.geofence import Sighting
from dispatch.presence import seconds_there, stays

T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)


def seen(minute: float) -> Sighting:
    return Sighting(Fix(T0 + timedelta(minutes=minute), 31.23, 121.47, 5.0), 10.0)


def test_fixes_a_minute_apart_are_one_stay_and_a_long_gap_starts_another() -> None:
    found = stays([seen(m) for m in (0, 1, 2, 3, 20, 21)])
    assert [(s.first.fix.fixed_at, s.fixes) for s in found] == [
        (T0, 4),
        (T0 + timedelta(minutes=20), 2),
    ]
    assert seconds_there(found) == 4 * 60  # 3 minutes, then 1; the 17-minute gap not counted


def test_no_fix_inside_is_no_time_there() -> None:
    assert stays([]) == [] and seconds_there([]) == 0


@given(st.permutations([0, 1, 2, 4, 11, 12, 30, 31, 32]))
def test_the_order_fixes_are_read_in_does_not_matter(minutes: list[int]) -> None:
    found = stays([seen(m) for m in minutes])
    assert [s.fixes for s in found] == [4, 2, 3]
    assert seconds_there(found) == (4 + 1 + 2) * 60
