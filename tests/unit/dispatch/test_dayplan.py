"""The day-plan optimiser: every rule a dispatcher relies on holds in its plans."""

from __future__ import annotations

import pytest

from dispatch.dayplan import Break, InfeasiblePlan, Job, Technician, greedy, optimise

H = 3600
WEST = Technician("west", 31.23, 121.40, (8 * H, 17 * H), {"hvac": 2})
EAST = Technician("east", 31.23, 121.55, (8 * H, 17 * H), {"hvac": 5, "electrical": 1})


def job(name: str, lon: float, **kw: object) -> Job:
    return Job(name, 31.23, lon, 1800, **kw)  # type: ignore[arg-type]


def test_each_technician_gets_the_jobs_near_them_and_arrivals_respect_windows() -> None:
    jobs = [
        job("w1", 121.41),
        job("w2", 121.42, window=(13 * H, 15 * H)),
        job("e1", 121.54),
        job("e2", 121.56, window=(8 * H, 9 * H)),
    ]
    plan = optimise([WEST, EAST], jobs, time_limit_s=1)
    assert plan.assignments() == {"w1": "west", "w2": "west", "e1": "east", "e2": "east"}
    arrivals = {v.job_id: v.arrive_s for visits in plan.routes.values() for v in visits}
    assert 13 * H <= arrivals["w2"] <= 15 * H
    assert 8 * H <= arrivals["e2"] <= 9 * H
    assert plan.unassigned == []


def test_skills_and_pins_decide_who_may_go() -> None:
    jobs = [
        job("needs_hvac_4", 121.41, skills={"hvac": 4}),  # near west, but only east can
        job("pinned_west", 121.55, pinned_to="west"),  # near east, but pinned
        job("nobody", 121.45, skills={"plumbing": 1}),
    ]
    plan = optimise([WEST, EAST], jobs, time_limit_s=1)
    assert plan.assignments() == {"needs_hvac_4": "east", "pinned_west": "west"}
    assert plan.unassigned == ["nobody"]


def test_a_pinned_time_is_kept() -> None:
    plan = optimise(
        [WEST], [job("at_ten", 121.41, pinned_to="west", pinned_at=10 * H)], time_limit_s=1
    )
    assert [(v.job_id, v.arrive_s) for v in plan.routes["west"]] == [("at_ten", 10 * H)]


def test_a_break_is_kept_between_visits() -> None:
    lunch = Technician("lunch", 31.23, 121.40, (8 * H, 17 * H), {}, (Break(12 * H, 12 * H, H),))
    jobs = [job(f"j{i}", 121.40 + i * 0.001) for i in range(8)]  # four hours of work nearby
    plan = optimise([lunch], jobs, time_limit_s=1)
    visits = plan.routes["lunch"]
    assert len(visits) == 8
    for visit in visits:  # no visit overlaps the 12:00-13:00 break
        assert visit.arrive_s + 1800 <= 12 * H or visit.arrive_s >= 13 * H


def test_pinned_visits_that_cannot_fit_are_refused_not_dropped() -> None:
    short = Technician("short", 31.23, 121.40, (8 * H, 9 * H))
    jobs = [job(f"p{i}", 121.40, pinned_to="short") for i in range(3)]  # 90 min in a 60 min shift
    with pytest.raises(InfeasiblePlan):
        optimise([short], jobs, time_limit_s=1)


def test_the_optimiser_never_plans_fewer_jobs_or_more_travel_than_greedy() -> None:
    jobs = [job(f"j{i}", 121.40 + (i * 7 % 16) * 0.01) for i in range(16)]
    best = optimise([WEST, EAST], jobs, time_limit_s=2)
    simple = greedy([WEST, EAST], jobs)
    assert len(best.unassigned) <= len(simple.unassigned)
    assert best.travel_s <= simple.travel_s
