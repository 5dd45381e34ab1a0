"""Fixes found by place and time, alike on PostgreSQL (PostGIS) and SQLite (R*Tree)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from api.db import UnitOfWorkFactory, utcnow
from api.location import nearby
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.positions import ALWAYS, LAT, LON, Tracked, fix


@pytest.fixture
def tracked(client: ApiClient, factories: Factories, engine: Engine) -> Tracked:
    return Tracked(client, factories, engine, working_hours=ALWAYS)


def near(
    tracked: Tracked, uow_factory: UnitOfWorkFactory, radius_m: float, **span: float
) -> list[nearby.NearFix]:
    now = utcnow()
    start = now - timedelta(minutes=span.get("from_minutes_ago", 120))
    end = now - timedelta(minutes=span.get("to_minutes_ago", -1))
    actor = tracked.world.admin_actor
    with uow_factory() as uow:
        return nearby.fixes_near(
            uow.session, actor, tracked.technician.id, LAT, LON, radius_m, start, end
        )


def test_only_fixes_inside_the_circle_and_the_time_span_are_found(
    tracked: Tracked, uow_factory: UnitOfWorkFactory
) -> None:
    # Walking east from the point, one fix a minute, 100 m apart.
    tracked.send(*[fix(30 - minute, minute * 100) for minute in range(10)])
    found = near(tracked, uow_factory, 250)
    assert [round(n.distance_m, -1) for n in found] == [0, 100, 200]
    assert [n.fix.fixed_at for n in found] == sorted(n.fix.fixed_at for n in found)
    assert {n.technician_id for n in found} == {tracked.technician.id}
    later = near(tracked, uow_factory, 250, from_minutes_ago=29.5)
    assert [round(n.distance_m, -1) for n in later] == [100, 200]


def test_the_distance_is_geodesic_on_both_databases(
    tracked: Tracked, uow_factory: UnitOfWorkFactory
) -> None:
    tracked.send(fix(5, 1_000))
    (found,) = near(tracked, uow_factory, 2_000)
    # 1,000 m east by the test's rough scale; the ellipsoid says 1,002.9 m here.
    assert found.distance_m == pytest.approx(1_002.9, abs=0.5)
    assert near(tracked, uow_factory, 1_000) == []


def test_another_tenants_fixes_at_the_same_place_are_not_found(
    client: ApiClient, factories: Factories, engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    mine = Tracked(client, factories, engine, working_hours=ALWAYS)
    theirs = Tracked(client, factories, engine, working_hours=ALWAYS)
    mine.send(fix(3))
    theirs.send(fix(2), fix(1))
    assert len(near(mine, uow_factory, 50)) == 1


def test_the_index_follows_the_retention_purge(
    tracked: Tracked, engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    from api.location import services

    tracked.send(fix(3), fix(2))
    services.purge_positions(uow_factory, utcnow())
    assert near(tracked, uow_factory, 50) == []
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            left = connection.scalar(text("SELECT count(*) FROM technician_positions_rtree"))
        assert left == 0
