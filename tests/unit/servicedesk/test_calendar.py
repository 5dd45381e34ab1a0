"""Business calendars: which hours each day has, and what cannot be saved."""

from __future__ import annotations

from datetime import UTC, date, datetime

from api.servicedesk.calendar import Calendar, check_hours
from api.servicedesk.holidays import covered, public_days
from api.servicedesk.sla import Clock, due_at

WORKDAY = ((540, 720), (780, 1080))
WEEKDAYS = {wd: WORKDAY for wd in range(5)}


def test_china_2026_national_day_is_off_and_its_make_up_sunday_is_worked():
    days_off, makeup = public_days("CN", [2026])
    assert date(2026, 10, 1) in days_off and date(2026, 10, 5) in days_off
    assert date(2026, 10, 3) in days_off  # a Saturday inside the holiday: a six-day team rests
    assert date(2026, 9, 20) in makeup  # Sunday, worked for the National Day bridge
    assert date(2026, 9, 21) not in days_off | makeup


def test_other_countries_come_from_holidays_without_make_up_days():
    days_off, makeup = public_days("DE", [2026])
    assert date(2026, 12, 25) in days_off and makeup == set()


def test_a_year_chinese_calendar_does_not_know_yet_is_reported_not_guessed():
    assert covered("CN", 2026)
    assert not covered("CN", 2099)
    assert public_days("CN", [2099]) == (set(), set())


def test_an_override_beats_a_holiday_and_a_make_up_day_uses_make_up_hours():
    calendar = Calendar(
        "Asia/Shanghai",
        WEEKDAYS,
        holidays=frozenset({date(2026, 10, 1)}),
        makeup_days=frozenset({date(2026, 9, 20)}),
        makeup_hours=((600, 900),),
        overrides={date(2026, 10, 2): ((540, 600),), date(2026, 9, 21): ()},
    )
    assert calendar.hours_on(date(2026, 10, 1)) == ()
    assert calendar.hours_on(date(2026, 10, 2)) == ((540, 600),)
    assert calendar.hours_on(date(2026, 9, 20)) == ((600, 900),)
    assert calendar.hours_on(date(2026, 9, 21)) == ()
    assert calendar.source_of(date(2026, 9, 21)) == "override"


def test_four_business_hours_from_friday_afternoon_before_national_day():
    days_off, makeup = public_days("CN", [2026])
    calendar = Calendar("Asia/Shanghai", WEEKDAYS, frozenset(days_off), frozenset(makeup))
    # Wednesday 30 Sep 16:00 in Shanghai; 1-7 Oct are off; Saturday 10 Oct is a make-up day.
    start = datetime(2026, 9, 30, 8, 0, tzinfo=UTC)
    due = due_at(Clock(calendar), start, 4 * 3600)
    assert due == datetime(2026, 10, 8, 3, 0, tzinfo=UTC)  # Thursday 8 Oct 11:00 local


def test_impossible_and_overlapping_hours_are_named():
    codes = [p.code for p in check_hours([(540, 480), (0, 1500), (600, 700), (650, 800)])]
    assert codes == ["impossible_hours", "impossible_hours", "overlapping_intervals"]
    assert check_hours([(540, 720), (720, 1080)]) == []
