"""Dispatch's hard filters and score: the shift in the customer's window, SLA urgency."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dispatch import candidates as rules

NOW = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # Monday 08:00 in Shanghai
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = {day: [["00:00", "24:00"]] for day in DAYS}
SITE = (31.2304, 121.4737)  # People's Square


def shanghai(hour: float) -> datetime:
    """Today, Monday, at ``hour`` in Shanghai."""
    return NOW + timedelta(hours=hour - 8)


def daily(first: str, last: str) -> dict[str, list[list[str]]]:
    return {day: [[first, last]] for day in DAYS}


def tech(east_m: float = 1_000, **facts: Any) -> rules.Technician:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "name": "t",
        "active": True,
        "skills": {"hvac": 3},
        "certifications": [],
        "working_hours": ALWAYS,
        "timezone": "Asia/Shanghai",
        "open_orders": 0,
        "capacity": 8,
        "lat": SITE[0],
        "lon": SITE[1] + east_m / 95_000,  # ~95 km per degree of longitude here
        "position_source": "fix",
    }
    return rules.Technician(**(values | facts))


def window(first: float, last: float, **job: Any) -> rules.Job:
    """A job at the site that the customer wants done between two Shanghai hours."""
    return rules.Job(*SITE, at=shanghai(first), until=shanghai(last), **job)


def test_a_shift_starting_mid_window_qualifies_when_the_job_still_fits() -> None:
    job = window(9, 12)  # the default hour of work
    assert rules.exclusion(job, tech(working_hours=daily("10:00", "18:00"))) is None
    assert rules.exclusion(job, tech(working_hours=daily("06:00", "10:00"))) is None


def test_a_shift_leaving_too_little_of_the_window_excludes_and_says_how_little() -> None:
    job = window(9, 12)
    late = rules.exclusion(job, tech(working_hours=daily("11:30", "20:00")))
    assert late == (
        rules.OFF_SHIFT,
        "on shift for at most 30 min at a stretch in the window"
        " 2026-11-30T01:00:00Z/2026-11-30T04:00:00Z, the job needs 60 min",
    )
    # On shift when the window opens is not enough if they leave half an hour later.
    leaving = rules.exclusion(job, tech(working_hours=daily("06:00", "09:30")))
    assert leaving is not None and leaving[0] == rules.OFF_SHIFT
    # A lunch break splits the time: two 40-minute stretches do not make an hour's job.
    split = {day: [["09:00", "09:40"], ["11:20", "12:00"]] for day in DAYS}
    split_shift = tech(working_hours=split)
    assert rules.exclusion(job, split_shift) == (
        rules.OFF_SHIFT,
        "on shift for at most 40 min at a stretch in the window"
        " 2026-11-30T01:00:00Z/2026-11-30T04:00:00Z, the job needs 60 min",
    )
    # ... but they do a 30-minute one.
    assert rules.exclusion(replace(job, duration=timedelta(minutes=30)), split_shift) is None


def test_someone_off_shift_all_window_is_excluded() -> None:
    job = window(9, 12)
    assert rules.exclusion(job, tech(working_hours=daily("20:00", "23:00"))) == (
        rules.OFF_SHIFT,
        "not on shift at any time in the window 2026-11-30T01:00:00Z/2026-11-30T04:00:00Z",
    )
    assert rules.exclusion(job, tech(working_hours={})) is not None


def test_a_window_shorter_than_the_job_needs_a_shift_covering_it_all() -> None:
    job = window(9, 9.5, duration=timedelta(hours=2))
    assert rules.exclusion(job, tech(working_hours=daily("08:00", "17:00"))) is None
    assert rules.exclusion(job, tech(working_hours=daily("09:10", "17:00"))) is not None


def test_without_a_window_the_shift_is_checked_at_the_start() -> None:
    job = rules.Job(*SITE, at=shanghai(9))
    assert rules.exclusion(job, tech(working_hours=daily("08:00", "09:30"))) is None
    assert rules.exclusion(job, tech(working_hours=daily("10:00", "18:00"))) == (
        rules.OFF_SHIFT,
        "not on shift at 2026-11-30T01:00:00Z",
    )


def test_an_urgent_sla_doubles_travel_and_a_late_arrival_costs_the_sla_part() -> None:
    weights = rules.Weights()
    calm = rules.Job(*SITE, at=NOW, sla_due_at=NOW + timedelta(hours=8))
    urgent = replace(calm, sla_due_at=NOW + timedelta(minutes=30))
    near, far = tech(2_000), tech(20_000)

    relaxed = {c.technician.id: c for c in rules.rank(calm, [near, far], now=NOW).candidates}
    pressed = {c.technician.id: c for c in rules.rank(urgent, [near, far], now=NOW).candidates}

    for tech_id in (near.id, far.id):
        minutes = relaxed[tech_id].travel_minutes
        assert relaxed[tech_id].parts["travel"] == pytest.approx(-minutes, abs=0.01)
        assert pressed[tech_id].parts["travel"] == pytest.approx(-2 * minutes, abs=0.01)
    assert pressed[near.id].travel_minutes < 30 < pressed[far.id].travel_minutes
    assert pressed[near.id].parts["sla"] == 0.0
    assert pressed[far.id].parts["sla"] == -weights.sla_miss  # arrives after the due time
    assert relaxed[far.id].parts["sla"] == 0.0
    for candidate in pressed.values():
        assert candidate.score == pytest.approx(100 + sum(candidate.parts.values()), abs=0.02)


def test_urgency_puts_the_nearer_busier_technician_first() -> None:
    # 7.7 minutes more driving against two open orders (10 points): when time is short,
    # the minutes weigh double and the nearer technician wins despite the workload.
    busy_near = tech(500, open_orders=2)
    idle_far = tech(2_800)
    calm = rules.Job(*SITE, at=NOW, sla_due_at=NOW + timedelta(hours=8))
    urgent = replace(calm, sla_due_at=NOW + timedelta(hours=3))

    relaxed = rules.rank(calm, [busy_near, idle_far], now=NOW).candidates
    pressed = rules.rank(urgent, [busy_near, idle_far], now=NOW).candidates

    assert [c.technician.id for c in relaxed] == [idle_far.id, busy_near.id]
    assert [c.technician.id for c in pressed] == [busy_near.id, idle_far.id]
    assert all(c.parts["sla"] == 0.0 for c in pressed)  # both arrive in time
    assert rules.best(urgent, [busy_near, idle_far], now=NOW) == pressed[0]


def test_in_a_window_the_sla_counts_from_when_the_technicians_shift_lets_them_start() -> None:
    # Due at 10:30. One on shift from 09:00 a longer drive away arrives in time; one whose
    # shift starts at 10:30 is a few minutes away but cannot arrive before 10:30.
    job = window(9, 12, sla_due_at=shanghai(10.5))
    early, late = tech(8_000), tech(1_000, working_hours=daily("10:30", "18:00"))

    assert rules.work_start(job, early) == shanghai(9)
    assert rules.work_start(job, late) == shanghai(10.5)
    ranked = {c.technician.id: c for c in rules.rank(job, [early, late], now=NOW).candidates}
    assert ranked[early.id].parts["sla"] == 0.0
    assert ranked[late.id].parts["sla"] == -rules.Weights().sla_miss
    # Without a window the work starts at the job's time, whoever does it.
    assert rules.work_start(rules.Job(*SITE, at=shanghai(9)), late) == shanghai(9)
    # The stretch must fit the job: a morning hour too short for it does not count.
    split = tech(working_hours={"mon": [["09:00", "09:30"], ["11:00", "12:00"]]})
    assert rules.work_start(job, split) == shanghai(11)
