"""Migration 0044 on a database with GPS fixes: a fix's technician must be of the fix's
tenant, the fixes stay findable by place and time (SQLite copies the table, so its
R*Tree is refilled), and going down and up again keeps both true."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from api.db import UnitOfWorkFactory, utcnow
from api.location.models import Position
from api.migrations import migrate, upgrade
from api.technicians.models import Technician
from dispatch.fix_index import fix_index_for
from tests.support.factories import Factories
from tests.support.positions import LAT, LON


def _fix(tenant_id: uuid.UUID, technician_id: uuid.UUID, minutes_ago: int) -> dict[str, object]:
    now = utcnow()
    return {
        "tenant_id": tenant_id, "device_id": "phone", "technician_id": technician_id,
        "fixed_at": now - timedelta(minutes=minutes_ago), "lat": LAT + minutes_ago / 111_000,
        "lon": LON, "accuracy_m": 5.0, "received_at": now,
    }  # fmt: skip


def _near(engine: Engine, tenant_id: uuid.UUID) -> list[int]:
    """Minutes ago of the tenant's fixes within 100 m of the square in the last hour."""
    now = utcnow()
    with engine.connect() as connection:
        found = fix_index_for(engine.dialect.name).within(
            connection, tenant_id, LAT, LON, 100.0, now - timedelta(hours=1), now
        )
    return sorted(round((now - near.fix.fixed_at).total_seconds() / 60) for near in found)


def test_fixes_keep_their_technician_tenant_and_stay_findable(own_engine: Engine) -> None:
    upgrade(own_engine)
    factories = Factories(UnitOfWorkFactory(own_engine))
    world, other = factories.tenant(), factories.tenant()
    mine = factories.technician(world, name="张伟").id
    theirs = factories.technician(other, name="李娜").id
    migrate(own_engine, "downgrade", "0043")
    with own_engine.begin() as connection:
        # One a minute, a metre apart walking north from the square; then the newest ten
        # are deleted, so the copy SQLite makes numbers the rows differently.
        connection.execute(insert(Position), [_fix(world.tenant_id, mine, n) for n in range(1, 31)])
        connection.execute(delete(Position).where(Position.lat < LAT + 10.5 / 111_000))
    assert _near(own_engine, world.tenant_id) == list(range(11, 31))

    migrate(own_engine, "upgrade", "head")
    assert _near(own_engine, world.tenant_id) == list(range(11, 31))
    with own_engine.begin() as connection:  # the index follows new fixes too
        connection.execute(insert(Position), [_fix(world.tenant_id, mine, 0)])
    assert _near(own_engine, world.tenant_id) == [0, *range(11, 31)]

    with pytest.raises(IntegrityError), own_engine.begin() as connection:
        connection.execute(insert(Position), [_fix(world.tenant_id, theirs, 40)])

    migrate(own_engine, "downgrade", "0043")
    migrate(own_engine, "upgrade", "head")
    assert _near(own_engine, world.tenant_id) == [0, *range(11, 31)]
    with own_engine.begin() as connection:  # a technician's fixes go with them
        connection.execute(delete(Technician).where(Technician.id == mine))
        left = connection.execute(select(func.count()).select_from(Position)).scalar_one()
    assert left == 0
    assert _near(own_engine, world.tenant_id) == []
