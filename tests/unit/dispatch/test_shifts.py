"""When a technician may be tracked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatch.shifts import StatusStep, active_intervals, longest_on_shift, on_shift, within

HOURS = {"mon": [["08:00", "12:00"], ["13:00", "17:30"]], "sat": [["09:00", "24:00"]]}


def test_working_hours_are_read_in_the_technicians_own_time_zone() -> None:
    monday_9_shanghai = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    assert on_shift(HOURS, "Asia/Shanghai", monday_9_shanghai)
    assert not on_shift(HOURS, "Europe/Berlin", monday_9_shanghai)  # 02:00 there
    lunch = datetime(2026, 11, 30, 4, 30, tzinfo=UTC)
    assert not on_shift(HOURS, "Asia/Shanghai", lunch)
    saturday_late = datetime(2026, 12, 5, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
    assert on_shift(HOURS, "Asia/Shanghai", saturday_late)
    assert not on_shift({}, "Asia/Shanghai", monday_9_shanghai)


def test_a_job_is_active_from_leaving_for_it_until_it_stops() -> None:
    def at(hour: int) -> datetime:
        return datetime(2026, 12, 1, hour, tzinfo=UTC)

    steps = [
        StatusStep("a", "assigned", at(1)),
        StatusStep("a", "en_route", at(2)),
        StatusStep("a", "on_site", at(3)),
        StatusStep("a", "paused", at(4)),
        StatusStep("a", "in_progress", at(6)),
        StatusStep("b", "en_route", at(9)),
    ]
    spans = active_intervals(steps)
    assert sorted(spans, key=lambda span: span[0]) == [(at(2), at(4)), (at(6), None), (at(9), None)]
    assert within(spans, at(3)) and not within(spans, at(5)) and within(spans, at(10))


def test_the_longest_stretch_on_shift_in_a_window_is_clipped_and_broken_by_gaps() -> None:
    monday = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai

    def shanghai(hour: float) -> datetime:
        return monday + timedelta(hours=hour - 8)

    # 08:00-12:00 then 13:00-17:30: lunch breaks the stretch.
    assert longest_on_shift(HOURS, "Asia/Shanghai", shanghai(7), shanghai(18)) == timedelta(
        hours=4, minutes=30
    )
    assert longest_on_shift(HOURS, "Asia/Shanghai", shanghai(11), shanghai(14)) == timedelta(
        hours=1
    )
    assert longest_on_shift(HOURS, "Asia/Shanghai", shanghai(18), shanghai(23)) == timedelta(0)
    assert longest_on_shift(HOURS, "Europe/Berlin", shanghai(8), shanghai(12)) == timedelta(0)


def test_a_night_shift_past_midnight_is_one_stretch() -> None:
    nights = {"fri": [["20:00", "24:00"]], "sat": [["00:00", "06:00"]]}
    friday_19 = datetime(2026, 12, 4, 11, 0, tzinfo=UTC)  # 19:00 in Shanghai
    assert longest_on_shift(
        nights, "Asia/Shanghai", friday_19, friday_19 + timedelta(hours=12)
    ) == timedelta(hours=10)


def test_a_long_window_finds_the_weekly_shift() -> None:
    sundays = {"sun": [["09:00", "11:00"]]}
    monday = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert longest_on_shift(
        sundays, "Asia/Shanghai", monday, monday + timedelta(days=60)
    ) == timedelta(hours=2)
    assert longest_on_shift(sundays, "Asia/Shanghai", monday, monday + timedelta(days=5)) == (
        timedelta(0)
    )
