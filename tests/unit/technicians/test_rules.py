"""Technician profile rules, without a database."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from api.technicians import rules


def _codes(hours: dict[str, list[list[str]]]) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in rules.working_hours_problems(hours)]


def test_a_normal_week_with_a_lunch_break_is_valid() -> None:
    week = {day: [["08:30", "12:00"], ["13:00", "17:30"]] for day in rules.WEEKDAYS[:5]}
    assert _codes(week) == []


def test_an_interval_after_a_bad_one_is_compared_with_the_last_good_one() -> None:
    hours = {"mon": [["08:00", "10:00"], ["bad", "10:00"], ["09:00", "11:00"]]}
    assert _codes(hours) == [
        ("working_hours.mon.1", "invalid_format"),
        ("working_hours.mon.2", "overlapping"),
    ]


def test_midnight_may_end_an_interval_but_not_start_one() -> None:
    assert _codes({"fri": [["20:00", "24:00"]]}) == []
    assert _codes({"fri": [["24:00", "24:00"]]}) == [("working_hours.fri.0", "invalid_format")]
    assert _codes({"fri": [["20:00", "24:01"]]}) == [("working_hours.fri.0", "invalid_format")]


def test_normalised_hours_drop_days_off_and_follow_weekday_order() -> None:
    hours = {"sun": [["08:00", "09:00"]], "sat": [], "mon": [["07:00", "08:00"]]}
    assert list(rules.normalised_working_hours(hours)) == ["mon", "sun"]


def test_a_certificate_is_valid_through_its_expiry_day() -> None:
    day = dt.date(2025, 6, 30)
    assert rules.certification_expired({"expires_on": "2025-06-30"}, day) is False
    assert rules.certification_expired({"expires_on": "2025-06-29"}, day) is True
    assert rules.certification_expired({"expires_on": None}, day) is False


def test_today_is_the_technicians_local_date() -> None:
    now = dt.datetime(2025, 6, 30, 17, 0, tzinfo=dt.UTC)
    assert rules.local_today("Asia/Shanghai", now) == dt.date(2025, 7, 1)
    assert rules.local_today("America/Los_Angeles", now) == dt.date(2025, 6, 30)


_times = st.integers(min_value=0, max_value=24 * 60 - 1).map(
    lambda m: f"{m // 60:02d}:{m % 60:02d}"
)


@given(st.lists(st.tuples(_times, _times), max_size=4))
def test_valid_hours_are_exactly_sorted_disjoint_non_empty_intervals(
    pairs: list[tuple[str, str]],
) -> None:
    intervals = [list(p) for p in pairs]
    expected_valid = all(start < end for start, end in pairs) and all(
        a[1] <= b[0] for a, b in itertools.pairwise(pairs)
    )
    assert (_codes({"wed": intervals}) == []) == expected_valid
