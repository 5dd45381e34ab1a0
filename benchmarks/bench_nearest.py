"""Nearest qualified technician among 10,000, ÷ a brute-force geodesic scan.

``python -m benchmarks.bench_nearest [--technicians 10000] [--queries 300] [--backend both]``

Per backend (SQLite file; throwaway PostgreSQL database with PostGIS), migrates a
fresh schema and writes one tenant of ``--technicians`` technicians spread over
greater Shanghai (~80 × 80 km): each with working hours, one or two skills of
five (levels 1-5), and either a fresh fix (80 %) or only a home base. Then:

- indexed: :func:`api.dispatching.services.nearest_qualified` (the 8 nearest active
  technicians with the skills by effective position, from one PostGIS KNN scan /
  R*Tree box over ``technician_places``, with their facts; the other hard filters;
  exact geodesics where they decide the best), for ``--queries`` random sites and
  skill/level requirements; p50 and p95.
- brute force, same run, same data: every technician's facts already in memory,
  the same filters, geopy's geodesic to every qualified one and the engine's
  scoring (the obvious implementation without an index), for ``--brute`` of the
  queries, each timed after a block of the indexed queries (alternating rounds, so
  a burst of load on a shared machine hits both alike).

- brute force as the issue words it (``brute_force_all_*``, ``speedup_vs_all``; a
  labelled extra, not the target's baseline): geopy's geodesic to every placed
  technician, all 10,000, then the same filters and scoring, for ``--brute-all``
  queries.

Every brute-force answer must be the indexed answer (the score here is travel
alone: no workload, SLA or continuity in the data), or the run fails. Prints ONE
JSON line. Targets: p50 < 2 ms, ≥ 500× faster than the (filter-first) brute force.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from geopy.distance import geodesic
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.db import make_engine, utcnow
from api.dispatching import services
from api.location.models import CurrentLocation
from api.migrations import upgrade
from api.technicians.models import Technician
from dispatch import candidates as rules
from tests.support.fleet import Member, load_fleet
from tests.support.postgres import create_database, drop_database

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SKILLS = ("hvac", "electrical", "elevator", "plumbing", "fire_safety")
CENTRE = (31.2304, 121.4737)
SPAN = 0.36  # degrees either side: about 80 km across


def _point(rng: random.Random) -> tuple[float, float]:
    return CENTRE[0] + rng.uniform(-SPAN, SPAN), CENTRE[1] + rng.uniform(-SPAN, SPAN)


def _seed(engine: Engine, count: int, rng: random.Random) -> uuid.UUID:
    now = utcnow()
    members = []
    for _ in range(count):
        home = _point(rng)
        active = rng.random() > 0.02
        levels = {skill: rng.randint(1, 5) for skill in rng.sample(SKILLS, rng.randint(1, 2))}
        fix = None
        if rng.random() < 0.8:
            at = now - timedelta(minutes=rng.uniform(0, 20))
            fix = (*_point(rng), at)
        members.append(Member(levels, home=home, fix=fix, active=active))
    return load_fleet(engine, members, name="bench", analyze=True)


def _all_facts(session: Session, tenant_id: uuid.UUID, fresh_since: Any) -> list[rules.Technician]:
    """Every technician, placed (fresh fix, else home), as the brute force sees them."""
    from sqlalchemy import select

    fixes = {
        row.technician_id: (row.lat, row.lon, row.fixed_at)
        for row in session.execute(
            select(CurrentLocation).where(CurrentLocation.tenant_id == tenant_id)
        ).scalars()
    }
    placed = []
    for tech in session.scalars(select(Technician).where(Technician.tenant_id == tenant_id)):
        fix = fixes.get(tech.id)
        if fix is not None and fix[2] >= fresh_since:
            lat, lon, source = fix[0], fix[1], "fix"
        else:
            lat, lon, source = tech.home_lat, tech.home_lon, "home"
        placed.append(
            rules.Technician(
                id=tech.id, name=tech.name, active=tech.active,
                skills={s.skill: s.level for s in tech.skills}, certifications=[],
                working_hours=tech.working_hours, timezone=tech.timezone, open_orders=0,
                capacity=services.CAPACITY, lat=lat, lon=lon, position_source=source,
            )
        )  # fmt: skip
    return placed


def _brute_force(job: rules.Job, everyone: list[rules.Technician], now: Any) -> list[Any]:
    """The obvious implementation without an index: every technician through the hard
    filters, geopy's geodesic to each qualified one, the engine's own scoring."""
    ranked = []
    for tech in everyone:
        if rules.exclusion(job, tech) is None:
            distance = geodesic((tech.lat, tech.lon), (job.lat, job.lon)).meters
            ranked.append(rules.score(job, tech, distance, now))
    ranked.sort(key=rules.best_first)
    return ranked


def _brute_force_all(job: rules.Job, everyone: list[rules.Technician], now: Any) -> list[Any]:
    """The scan as the issue words it: geopy's geodesic to every placed technician
    first, then the hard filters and the engine's scoring."""
    measured = [
        (tech, geodesic((tech.lat, tech.lon), (job.lat, job.lon)).meters)
        for tech in everyone
        if tech.lat is not None and tech.lon is not None
    ]
    ranked = [
        rules.score(job, tech, distance, now)
        for tech, distance in measured
        if rules.exclusion(job, tech) is None
    ]
    ranked.sort(key=rules.best_first)
    return ranked


def _timed_answers(
    name: str, scan: Any, jobs: list[rules.Job], answers: list[Any], everyone: Any, now: Any
) -> list[float]:
    timings = []
    for job, answer in zip(jobs, answers, strict=True):
        t0 = time.perf_counter()
        ranked = scan(job, everyone, now)
        timings.append(time.perf_counter() - t0)
        expected = ranked[0].technician.id if ranked else None
        if expected != answer:
            raise SystemExit(f"{name}: indexed answer {answer} != brute force {expected}")
    return timings


def _run(
    name: str, url: str, count: int, queries: int, brute: int, brute_all: int
) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        rng = random.Random(12)
        started = time.perf_counter()
        tenant_id = _seed(engine, count, rng)
        seed_s = time.perf_counter() - started
        now = utcnow()
        fresh_since = now - timedelta(minutes=services.FRESH_MINUTES)
        jobs = [
            rules.Job(*_point(rng), at=now, skills={rng.choice(SKILLS): rng.randint(1, 4)})
            for _ in range(queries)
        ]
        timings: list[float] = []
        answers: list[Any] = []
        brute_timings: list[float] = []
        all_timings: list[float] = []
        with Session(engine) as session:
            everyone = _all_facts(session, tenant_id, fresh_since)
            for job in jobs[:20]:  # warm the caches and the statement cache
                services.nearest_qualified(
                    session, tenant_id, job, now=now, fresh_since=fresh_since
                )
            # Alternating rounds: a block of indexed queries, then one query of each
            # brute force, so a burst of load on the shared machine hits both alike.
            rounds = max(brute, brute_all, 1)
            size = -(-len(jobs) // rounds)
            for r in range(rounds):
                for job in jobs[r * size : (r + 1) * size]:
                    t0 = time.perf_counter()
                    best = services.nearest_qualified(
                        session, tenant_id, job, now=now, fresh_since=fresh_since
                    )
                    timings.append(time.perf_counter() - t0)
                    answers.append(best.technician.id if best else None)
                if r < brute:
                    brute_timings += _timed_answers(
                        name, _brute_force, jobs[r : r + 1], answers[r : r + 1], everyone, now
                    )
                if r < brute_all:
                    all_timings += _timed_answers(
                        name, _brute_force_all, jobs[r : r + 1], answers[r : r + 1], everyone, now
                    )
        p50 = statistics.median(timings)
        brute_p50 = statistics.median(brute_timings)
        return {
            "p50_ms": round(p50 * 1000, 3),
            "p95_ms": round(statistics.quantiles(timings, n=20)[18] * 1000, 3),
            "brute_force_p50_ms": round(brute_p50 * 1000, 1),
            "speedup": round(brute_p50 / p50, 1),
            "queries": len(timings),
            "brute_force_queries": len(brute_timings),
            "seed_s": round(seed_s, 1),
            "target_met": p50 < 0.002 and brute_p50 / p50 >= 500,
        } | (
            {
                "brute_force_all_p50_ms": round(statistics.median(all_timings) * 1000, 1),
                "speedup_vs_all": round(statistics.median(all_timings) / p50, 1),
            }
            if all_timings
            else {}
        )
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--technicians", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--brute", type=int, default=5)
    parser.add_argument("--brute-all", type=int, default=3)
    parser.add_argument("--backend", choices=("both", "sqlite", "postgresql"), default="both")
    args = parser.parse_args()
    result: dict[str, Any] = {"benchmark": "nearest_qualified", "technicians": args.technicians}
    if args.backend in ("both", "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            result["sqlite"] = _run(
                "sqlite", url, args.technicians, args.queries, args.brute, args.brute_all
            )
    if args.backend in ("both", "postgresql"):
        name = f"fieldline_bench_{uuid.uuid4().hex[:8]}"
        url = create_database(PG_ADMIN, name)
        try:
            result["postgresql"] = _run(
                "postgresql", url, args.technicians, args.queries, args.brute, args.brute_all
            )
        finally:
            drop_database(PG_ADMIN, name)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
