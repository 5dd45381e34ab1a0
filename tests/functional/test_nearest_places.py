"""The nearest qualified technician from ``technician_places`` (migration 0041): the
answer a scan of every technician would give, with each placed by a fresh fix else
their home base, and kept in step by the database as fixes, homes and facts change."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.db import UnitOfWorkFactory, utcnow
from api.dispatching import services
from api.location.models import CurrentLocation
from api.technicians.models import Technician
from dispatch import candidates as rules
from dispatch.geo import metres
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.factories.core import World
from tests.support.fleet import Member, load_fleet
from tests.support.positions import ALWAYS, LAT, LON, Tracked, fix

SKILLS = ("hvac", "electrical", "elevator")
NIGHTS_ONLY = {
    day: [["02:00", "02:01"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}
FRESH = timedelta(minutes=services.FRESH_MINUTES)


def east(metres: float) -> float:
    return LON + metres / 95_000  # ~95 km per degree of longitude in Shanghai


def _fleet(engine: Engine, rng: random.Random, count: int, now: datetime) -> uuid.UUID:
    """A tenant of ``count`` technicians within ~10 km, written as a bulk load would:
    homes or none, fixes fresh, stale or none, one or two skills, a few inactive or
    off shift."""
    members = []
    for _ in range(count):
        levels = {skill: rng.randint(1, 5) for skill in rng.sample(SKILLS, rng.randint(1, 2))}
        home = None
        if rng.random() < 0.85:
            home = (LAT + rng.uniform(-0.05, 0.05), LON + rng.uniform(-0.05, 0.05))
        hours = NIGHTS_ONLY if rng.random() < 0.1 else ALWAYS
        active = rng.random() > 0.1
        fix = None
        if rng.random() < 0.7:  # half of them within the freshness window
            at = now - timedelta(minutes=rng.uniform(0, 2 * services.FRESH_MINUTES))
            fix = (LAT + rng.uniform(-0.05, 0.05), LON + rng.uniform(-0.05, 0.05), at)
        members.append(Member(levels, home=home, fix=fix, active=active, working_hours=hours))
    return load_fleet(engine, members, name="p")


def _everyone(session: Session, tenant_id: uuid.UUID, fresh_since: datetime) -> list[Any]:
    """Every technician placed from the source tables (fresh fix, else home base): the
    view of a scan without an index."""
    fixes = {
        row.technician_id: row
        for row in session.scalars(
            select(CurrentLocation).where(CurrentLocation.tenant_id == tenant_id)
        )
    }
    placed = []
    for tech in session.scalars(select(Technician).where(Technician.tenant_id == tenant_id)):
        fix_row = fixes.get(tech.id)
        if fix_row is not None and fix_row.fixed_at >= fresh_since:
            lat, lon, source = fix_row.lat, fix_row.lon, "fix"
        else:
            lat, lon, source = tech.home_lat, tech.home_lon, "home"
        placed.append(
            rules.Technician(
                id=tech.id, name=tech.name, active=tech.active,
                skills={s.skill: s.level for s in tech.skills}, certifications=[],
                working_hours=tech.working_hours, timezone=tech.timezone, open_orders=0,
                capacity=services.CAPACITY, lat=lat, lon=lon,
                position_source=source if lat is not None else None,
            )
        )  # fmt: skip
    return placed


@settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(
    rng=st.randoms(use_true_random=False),
    count=st.integers(min_value=0, max_value=14),
    skill=st.sampled_from(SKILLS),
    level=st.integers(min_value=1, max_value=5),
    shortlist=st.integers(min_value=1, max_value=8),
)
def test_the_nearest_qualified_is_what_a_scan_of_everyone_finds(
    engine: Engine, rng: random.Random, count: int, skill: str, level: int, shortlist: int
) -> None:
    now = utcnow()
    tenant_id = _fleet(engine, rng, count, now)
    job = rules.Job(
        LAT + rng.uniform(-0.05, 0.05), LON + rng.uniform(-0.05, 0.05), at=now,
        skills={skill: level},
    )  # fmt: skip
    with Session(engine) as session:
        found = services.nearest_qualified(
            session, tenant_id, job, now=now, fresh_since=now - FRESH, first_shortlist=shortlist
        )
        everyone = _everyone(session, tenant_id, now - FRESH)
    # What the service promises: the ranking's best among the ``shortlist`` nearest (on
    # the sphere) who are active and skilled, the list widened ×4 while nobody passes.
    indexed = sorted(
        (t for t in everyone if t.lat is not None and t.active and t.skills.get(skill, 0) >= level),
        key=lambda t: metres(t.lat, t.lon, job.lat, job.lon),  # type: ignore[arg-type]
    )
    k = shortlist
    while True:
        ranking = rules.rank(job, indexed[:k], now=now)
        if ranking.candidates or k >= len(indexed):
            break
        k *= 4
    expected = ranking.candidates[0] if ranking.candidates else None
    assert found == expected
    if shortlist >= count:  # everyone looked at: the scan of the whole fleet agrees
        scan = rules.rank(job, everyone, now=now).candidates
        assert found == (scan[0] if scan else None)


def _nearest(uow_factory: UnitOfWorkFactory, world: World, at: datetime, **job: Any) -> Any:
    fields: dict[str, Any] = {"lat": LAT, "lon": LON, "skills": {"hvac": 3}} | job
    with uow_factory() as uow:
        return services.nearest_qualified(
            uow.session, world.tenant_id, rules.Job(at=at, **fields), now=at,
            fresh_since=at - FRESH,
        )  # fmt: skip


def _hire(factories: Factories, world: World, home_east_m: float, **data: Any) -> Technician:
    fields: dict[str, Any] = {
        "working_hours": ALWAYS,
        "skills": [{"skill": "hvac", "level": 3}],
        "home_base": {"address": "家", "position": {"lat": LAT, "lon": east(home_east_m)}},
    } | data
    return factories.technician(world, **fields)


def test_a_fix_places_its_technician_until_it_goes_stale_then_home_does(
    client: ApiClient, factories: Factories, engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    tracked = Tracked(
        client, factories, engine, working_hours=ALWAYS, skills=[{"skill": "hvac", "level": 4}],
        home_base={"address": "家", "position": {"lat": LAT, "lon": east(6_000)}},
    )  # fmt: skip
    world = tracked.world
    _hire(factories, world, 3_000)  # at home 3 km east, no device
    tracked.send(fix(10, 200))
    now = utcnow()

    first = _nearest(uow_factory, world, now)
    assert first is not None and first.technician.id == tracked.technician.id
    assert first.technician.position_source == "fix"

    tracked.send(fix(5, 4_000))  # a newer fix moves them 4 km east: 3 km home is nearer
    moved = _nearest(uow_factory, world, utcnow())
    assert moved is not None and moved.technician.id != tracked.technician.id
    again = _nearest(uow_factory, world, utcnow(), lon=east(4_000))
    assert again is not None and again.technician.id == tracked.technician.id
    assert again.distance_m < 50

    # Half an hour later the same fix is stale: they count at home, 6 km east.
    later = now + FRESH
    stale = _nearest(uow_factory, world, later, lon=east(6_000))
    assert stale is not None and stale.technician.id == tracked.technician.id
    assert stale.technician.position_source == "home"
    assert stale.distance_m < 5


def test_an_older_batch_does_not_move_the_technician_back(
    client: ApiClient, factories: Factories, engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    tracked = Tracked(
        client, factories, engine, working_hours=ALWAYS, skills=[{"skill": "hvac", "level": 4}]
    )
    tracked.send(fix(2, 2_000))
    tracked.send(fix(8, 0))  # late, older: the current position stays 2 km east
    found = _nearest(uow_factory, tracked.world, utcnow())
    assert found is not None and found.technician.id == tracked.technician.id
    assert found.distance_m == pytest.approx(2_000, rel=0.05)


def test_inactive_off_shift_and_full_technicians_are_passed_over(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    leaving = _hire(factories, world, 100)
    _hire(factories, world, 200, working_hours=NIGHTS_ONLY)
    full = _hire(factories, world, 300)
    moving = _hire(factories, world, 9_000)
    wanted = _hire(factories, world, 5_000)
    for _ in range(2):
        factories.transition(world, factories.work_order(world), "assign", assignee_id=full.id)
    api = client.as_(world.admin_token)
    for tech, change in (
        (leaving, {"active": False}),
        (moving, {"home_base": {"address": "新家", "position": {"lat": LAT, "lon": east(400)}}}),
    ):
        current = api.get(f"/v1/technicians/{tech.id}")
        changed = api.patch(f"/v1/technicians/{tech.id}", etag=current.headers["ETag"], json=change)
        assert changed.status_code == 200, changed.get_json()

    now = utcnow()
    with uow_factory() as uow:
        found = services.nearest_qualified(
            uow.session, world.tenant_id, rules.Job(LAT, LON, at=now, skills={"hvac": 3}),
            now=now, fresh_since=now - FRESH, capacity=2,
        )  # fmt: skip
    assert found is not None and found.technician.id == moving.id  # moved home, 400 m
    assert found.distance_m == pytest.approx(400, rel=0.05)

    current = api.get(f"/v1/technicians/{moving.id}")
    api.patch(
        f"/v1/technicians/{moving.id}", etag=current.headers["ETag"],
        json={"skills": [{"skill": "plumbing", "level": 5}]},
    )  # fmt: skip
    with uow_factory() as uow:
        found = services.nearest_qualified(
            uow.session, world.tenant_id, rules.Job(LAT, LON, at=now, skills={"hvac": 3}),
            now=now, fresh_since=now - FRESH, capacity=2,
        )  # fmt: skip
    assert found is not None and found.technician.id == wanted.id


def test_each_fact_a_technician_changes_changes_the_next_answer(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    """The facts the search reads from ``technician_places`` (migration 0043) follow
    every change of the technician at once: name, certifications, hours, skills, active."""
    world = factories.tenant()
    licence = [{"name": "电工证", "number": "E1", "expires_on": "2099-12-31"}]
    near = _hire(factories, world, 100, certifications=licence)
    far = _hire(factories, world, 2_000, certifications=licence)
    api = client.as_(world.admin_token)

    def change(tech: Technician, **data: Any) -> None:
        current = api.get(f"/v1/technicians/{tech.id}")
        changed = api.patch(f"/v1/technicians/{tech.id}", etag=current.headers["ETag"], json=data)
        assert changed.status_code == 200, changed.get_json()

    def best() -> Any:
        found = _nearest(uow_factory, world, utcnow(), certification="电工证")
        return found and (found.technician.id, found.technician.name)

    assert best() == (near.id, near.name)
    change(near, name="王师傅")
    assert best() == (near.id, "王师傅")
    for facts in (
        {"certifications": []},
        {"working_hours": NIGHTS_ONLY},
        {"skills": [{"skill": "plumbing", "level": 5}]},
        {"active": False},
    ):
        change(near, **facts)
        assert best() == (far.id, far.name), facts
        undo = {
            "certifications": licence, "working_hours": ALWAYS,
            "skills": [{"skill": "hvac", "level": 3}], "active": True,
        }[next(iter(facts))]  # fmt: skip
        change(near, **{next(iter(facts)): undo})
        assert best() == (near.id, "王师傅"), facts


def test_a_skill_raised_lowered_or_removed_counts_from_the_next_search(
    client: ApiClient, factories: Factories, engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    """On PostgreSQL the index itself holds each technician's skills (migration 0045):
    a change of skill or level moves them in or out of the search at once, whether they
    are placed by a fix or by their home base."""
    tracked = Tracked(
        client, factories, engine, working_hours=ALWAYS, skills=[{"skill": "hvac", "level": 2}]
    )
    world = tracked.world
    tracked.send(fix(1, 100))  # on a job 100 m east
    at_home = _hire(factories, world, 300, skills=[{"skill": "hvac", "level": 2}])
    far = _hire(factories, world, 5_000, skills=[{"skill": "hvac", "level": 5}])
    api = client.as_(world.admin_token)

    def change(tech: Technician, *skills: tuple[str, int]) -> None:
        current = api.get(f"/v1/technicians/{tech.id}")
        body = {"skills": [{"skill": skill, "level": level} for skill, level in skills]}
        changed = api.patch(f"/v1/technicians/{tech.id}", etag=current.headers["ETag"], json=body)
        assert changed.status_code == 200, changed.get_json()

    def best(**skills: int) -> uuid.UUID | None:
        found = _nearest(uow_factory, world, utcnow(), skills=skills)
        return found and found.technician.id

    # The tracked technician first (at_home, hvac 2, is next), then at_home (far is).
    for tech, then in ((tracked.technician, at_home.id), (at_home, far.id)):
        assert best(hvac=2) == tech.id
        assert best(hvac=3) == far.id
        change(tech, ("hvac", 4))  # raised
        assert best(hvac=3) == best(hvac=4) == tech.id
        assert best(hvac=5) == far.id
        change(tech, ("hvac", 1))  # lowered
        assert best(hvac=1) == tech.id
        assert best(hvac=2) == then
        change(tech, ("plumbing", 3))  # removed, another skill instead
        assert best(hvac=1) == then
        assert best(plumbing=3) == tech.id
        assert best(plumbing=4) is None
        assert best(plumbing=1, hvac=1) is None
        change(tech, ("plumbing", 3), ("hvac", 1))  # both: found for both at once
        assert best(plumbing=2, hvac=1) == tech.id
        change(tech)  # no skills at all
        assert best(hvac=1) == then
        assert best(plumbing=1) is None
