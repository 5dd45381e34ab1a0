"""The best candidate, found with as few exact geodesics as can decide it, is the
ranking's first: same technician, same score parts, same distance."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from geopy.distance import geodesic

from dispatch import candidates as rules

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
ALWAYS = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _fleet(rng: random.Random, count: int, lat: float) -> list[rules.Technician]:
    return [
        rules.Technician(
            id=uuid.UUID(int=rng.getrandbits(128)),
            name=f"t{n}",
            active=rng.random() > 0.1,
            skills={"hvac": rng.randint(1, 5)},
            certifications=[],
            working_hours=ALWAYS,
            timezone="Asia/Shanghai",
            open_orders=rng.randint(0, 9),
            capacity=8,
            lat=lat + rng.uniform(-0.05, 0.05),
            lon=121.47 + rng.uniform(-0.05, 0.05),
            position_source="fix",
        )
        for n in range(count)
    ]


@pytest.mark.parametrize("lat", [0.5, 31.23, 60.0])  # the sphere errs most near the equator
def test_best_is_the_first_of_the_ranking(lat: float) -> None:
    rng = random.Random(lat)
    for _ in range(60):
        fleet = _fleet(rng, rng.randint(1, 12), lat)
        job = rules.Job(
            lat + rng.uniform(-0.05, 0.05), 121.47, at=NOW, skills={"hvac": rng.randint(1, 4)},
            sla_due_at=NOW + timedelta(minutes=rng.choice([10, 30, 600])), vip=rng.random() < 0.5,
            last_technicians=frozenset({fleet[0].id}),
        )  # fmt: skip
        ranking = rules.rank(job, fleet, now=NOW)
        assert rules.best(job, fleet, now=NOW) == (
            ranking.candidates[0] if ranking.candidates else None
        )


def test_two_technicians_a_metre_apart_are_told_apart_by_the_exact_geodesic() -> None:
    near, far = _fleet(random.Random(1), 2, 31.23)
    near = replace(near, lat=31.2400, lon=121.47, open_orders=0, active=True)
    far = replace(far, lat=31.2400, lon=121.47001, open_orders=0, active=True)
    job = rules.Job(31.23, 121.47, at=NOW, skills={"hvac": 1})
    found = rules.best(job, [far, near], now=NOW)
    assert found is not None and found.technician.id == near.id
    assert found.distance_m == pytest.approx(1_108.9, abs=1.0)


def test_the_exact_geodesic_is_geopys() -> None:
    rng = random.Random(7)
    for _ in range(200):
        lat = rng.uniform(-80, 80)
        job = rules.Job(lat + rng.uniform(-1, 1), rng.uniform(-179, 179), at=NOW)
        tech = replace(_fleet(rng, 1, lat)[0], lon=job.lon + rng.uniform(-1, 1))
        expected = geodesic((tech.lat, tech.lon), (job.lat, job.lon)).meters
        assert rules.geodesic_m(tech, job) == pytest.approx(expected, abs=1e-6)
