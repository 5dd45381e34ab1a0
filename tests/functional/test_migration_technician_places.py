"""Migration 0041 on a database with technicians and fixes: the places are filled from
them, the nearest qualified technician is the same before and after, and going down
and up again leaves the index working."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, update

from api.db import UnitOfWorkFactory, utcnow
from api.dispatching import services
from api.location.models import CurrentLocation
from api.migrations import migrate, upgrade
from api.technicians.models import Technician
from dispatch import candidates as rules
from tests.support.factories import Factories
from tests.support.positions import ALWAYS, LAT, LON


def test_existing_homes_and_fixes_place_their_technicians(own_engine: Engine) -> None:
    upgrade(own_engine)
    factories = Factories(UnitOfWorkFactory(own_engine))
    world = factories.tenant()
    hvac = {"working_hours": ALWAYS, "skills": [{"skill": "hvac", "level": 3}]}
    at_home = factories.technician(
        world, home_base={"address": "家", "position": {"lat": LAT, "lon": LON + 0.02}}, **hvac
    )
    out = factories.technician(
        world, home_base={"address": "家", "position": {"lat": LAT + 1, "lon": LON}}, **hvac
    )
    now = utcnow()
    migrate(own_engine, "downgrade", "0040")  # as the data stood before the places
    with own_engine.begin() as connection:
        connection.execute(
            CurrentLocation.__table__.insert().values(
                tenant_id=world.tenant_id, technician_id=out.id, device_id="d",
                fixed_at=now - timedelta(minutes=5), lat=LAT, lon=LON + 0.01,
                accuracy_m=5.0, updated_at=now,
            )
        )  # fmt: skip
    migrate(own_engine, "upgrade", "head")

    def nearest() -> rules.Candidate | None:
        with UnitOfWorkFactory(own_engine)() as uow:
            return services.nearest_qualified(
                uow.session, world.tenant_id, rules.Job(LAT, LON, at=now, skills={"hvac": 3}),
                now=now, fresh_since=now - timedelta(minutes=30),
            )  # fmt: skip

    found = nearest()
    assert found is not None and found.technician.id == out.id
    assert found.technician.position_source == "fix"
    with own_engine.begin() as connection:  # after the migration, triggers keep it in step
        connection.execute(update(Technician).where(Technician.id == out.id).values(active=False))
    found = nearest()
    assert found is not None and found.technician.id == at_home.id
    assert found.technician.position_source == "home"
