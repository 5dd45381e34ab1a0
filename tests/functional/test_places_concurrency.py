"""A technician's home base set at the moment their first fix arrives: two
transactions on two connections, each writing ``technician_places`` through its
triggers (migration 0041). The technician must be placed once, by the fix while it
is fresh and by the home base after, whichever transaction writes first.

The test holds the first writer's transaction open and lets the second go until it
has either committed (the two never met: each trigger read the other's row before
it existed) or is seen waiting for the first. No sleep decides the outcome.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, insert, text, update

from api.db import utcnow
from api.location.models import CurrentLocation
from api.technicians.models import Technician
from dispatch.spatial import PostgisIndex
from tests.conftest import backend
from tests.support.factories import Factories
from tests.support.positions import ALWAYS, LAT, LON

pytestmark = pytest.mark.skipif(backend() != "postgresql", reason="concurrent writers")

_WAITING = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


def _placed(engine: Engine, tenant_id: uuid.UUID, fresh_since: datetime) -> list[tuple[Any, str]]:
    with engine.connect() as connection:
        found = PostgisIndex().qualified(
            connection, tenant_id, LAT, LON, fresh_since=fresh_since, limit=8,
            skills={"hvac": 1}, open_statuses=["assigned"],
        )  # fmt: skip
    return [(p.located.technician_id, p.located.source) for p in found]


def _race(
    engine: Engine, first: Callable[[Connection], None], second: Callable[[Connection], None]
) -> None:
    """``first`` written and held uncommitted while ``second`` runs on another connection
    until it commits or waits for ``first``; then ``first`` commits."""
    done = threading.Event()
    failures: list[BaseException] = []

    def run_second() -> None:
        try:
            with engine.connect() as connection:
                second(connection)
                connection.commit()
        except BaseException as error:
            failures.append(error)
        finally:
            done.set()

    with engine.connect() as connection:
        first(connection)
        thread = threading.Thread(target=run_second)
        thread.start()
        deadline = time.monotonic() + 60
        with engine.connect() as watcher:
            while not done.is_set() and not watcher.scalar(text(_WAITING)):
                # pg_stat_activity is read once per transaction: end it, or every
                # later poll would see the first one's snapshot and wait for ever.
                watcher.rollback()
                assert time.monotonic() < deadline, "the second writer neither waited nor ended"
                time.sleep(0.02)
        connection.commit()
        thread.join(timeout=60)
    assert not failures, failures


@pytest.mark.parametrize("home_first", [True, False], ids=["home-first", "fix-first"])
def test_a_home_base_set_as_the_first_fix_arrives_places_the_technician_once(
    engine: Engine, factories: Factories, home_first: bool
) -> None:
    world = factories.tenant()
    tech = factories.technician(
        world, working_hours=ALWAYS, skills=[{"skill": "hvac", "level": 3}]
    )  # no home base, no fix yet
    fixed_at = utcnow() - timedelta(minutes=5)

    def set_home(connection: Connection) -> None:
        connection.execute(
            update(Technician)
            .where(Technician.id == tech.id)
            .values(home_lat=LAT, home_lon=LON + 0.02)
        )

    def first_fix(connection: Connection) -> None:
        connection.execute(
            insert(CurrentLocation).values(
                tenant_id=world.tenant_id, technician_id=tech.id, device_id="d",
                fixed_at=fixed_at, lat=LAT, lon=LON + 0.01, accuracy_m=5.0, updated_at=fixed_at,
            )
        )  # fmt: skip

    _race(engine, *((set_home, first_fix) if home_first else (first_fix, set_home)))

    while_fresh = _placed(engine, world.tenant_id, fixed_at - timedelta(minutes=30))
    assert while_fresh == [(tech.id, "fix")]
    once_stale = _placed(engine, world.tenant_id, fixed_at + timedelta(seconds=1))
    assert once_stale == [(tech.id, "home")]
