"""The SLA engine agrees with the minute-by-minute oracle on every calendar and pause.

Calendars are drawn with weekly hours, holidays, make-up workdays and per-day
overrides, in a zone without daylight saving (Asia/Shanghai) and two with it
(Europe/Berlin, America/New_York); starts fall around the 2026 clock changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.servicedesk.calendar import Calendar, normalise
from api.servicedesk.sla import Clock
from tests.support.sla_bruteforce import brute_due, brute_elapsed

ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York"]
# Around the 2026 transitions: Europe 29 Mar / 25 Oct, America 8 Mar / 1 Nov.
WINDOWS = [datetime(2026, 3, 5, tzinfo=UTC), datetime(2026, 10, 22, tzinfo=UTC)]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def day_hours(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    # Intervals on a 30-minute grid, including ones across 02:00-03:00 (the DST hour).
    cuts = draw(st.lists(st.integers(0, 48), min_size=0, max_size=6, unique=True))
    cuts.sort()
    pairs = [(cuts[i] * 30, cuts[i + 1] * 30) for i in range(0, len(cuts) - 1, 2)]
    return normalise(p for p in pairs if p[0] < p[1])


@st.composite
def calendars(draw: st.DrawFn, base: date) -> Calendar:
    zone = draw(st.sampled_from(ZONES))
    weekly = {wd: draw(day_hours()) for wd in range(7)}
    if not any(weekly.values()):
        weekly[0] = ((540, 1080),)
    days = st.integers(0, 40).map(lambda n: base + timedelta(days=n))
    holidays = frozenset(draw(st.lists(days, max_size=6)))
    makeup = frozenset(draw(st.lists(days, max_size=3)))
    overrides = draw(st.dictionaries(days, day_hours(), max_size=4))
    makeup_hours = draw(st.one_of(st.none(), day_hours()))
    return Calendar(zone, weekly, holidays, makeup, makeup_hours, overrides)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Calendar, int, list[tuple[int, int | None]]]:
    window = draw(st.sampled_from(WINDOWS))
    calendar = draw(calendars(window.date()))
    start = int(window.timestamp()) + 60 * draw(st.integers(0, 20 * 1440))
    pauses: list[tuple[int, int | None]] = []
    for _ in range(draw(st.integers(0, 3))):
        begin = start + 60 * draw(st.integers(-600, 6 * 1440))
        length = draw(st.one_of(st.none(), st.integers(1, 2 * 1440)))
        pauses.append((begin, None if length is None else begin + 60 * length))
    return calendar, start, pauses


@SETTINGS
@given(scenarios(), st.integers(0, 1500))
def test_due_time_matches_minute_by_minute_count(scenario, target_minutes):
    calendar, start, pauses = scenario
    assert Clock(calendar).due(start, target_minutes * 60, pauses) == brute_due(
        calendar, start, target_minutes, pauses
    )


@SETTINGS
@given(scenarios(), st.integers(0, 8 * 1440))
def test_elapsed_business_time_matches_minute_by_minute_count(scenario, minutes_later):
    calendar, start, pauses = scenario
    moment = start + 60 * minutes_later
    assert Clock(calendar).elapsed(start, moment, pauses) == brute_elapsed(
        calendar, start, moment, pauses
    )


@SETTINGS
@given(scenarios(), st.integers(1, 900), st.integers(1, 900))
def test_a_policy_change_recomputes_from_the_same_start(scenario, first, second):
    """One clock serves both targets; the second due time is the oracle's for the new target."""
    calendar, start, pauses = scenario
    clock = Clock(calendar)
    clock.due(start, first * 60, pauses)
    changed = clock.due(start, second * 60, pauses)
    assert changed == brute_due(calendar, start, second, pauses)
    if changed is not None:
        assert clock.elapsed(start, changed, pauses) == second * 60


@SETTINGS
@given(scenarios(), st.integers(1, 1500))
def test_the_clock_is_at_its_target_exactly_at_the_due_time(scenario, target_minutes):
    calendar, start, pauses = scenario
    clock = Clock(calendar)
    due = clock.due(start, target_minutes * 60, pauses)
    if due is not None:
        assert clock.elapsed(start, due, pauses) == target_minutes * 60
        assert clock.elapsed(start, due - 1, pauses) < target_minutes * 60
