"""When a technician may be tracked."""

from __future__ import annotations

from datetime import UTC, datetime

from dispatch.shifts import StatusStep, active_intervals, on_shift, within

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
