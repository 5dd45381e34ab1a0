"""Migration 0010 on a database with data: upgrading to head counts the running checksum
of every existing scope, equal to a recount, and later writes carry on from it."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, func, select

from api.db import UnitOfWorkFactory
from api.migrations import migrate, upgrade
from api.sync import services, tallies
from api.sync.models import SyncScopeTally
from tests.support.factories import Factories


def _kept_and_full(
    uow_factory: UnitOfWorkFactory, tenant_id: uuid.UUID, scope: str
) -> tuple[tuple[str, int] | None, tuple[str, int]]:
    with uow_factory.reader() as uow:
        tally = tallies.read(uow.session, tenant_id, scope)
        full = services.full_summary(uow.session, tenant_id, scope)
    return (None if tally is None else (tally.checksum, tally.count)), (full.checksum, full.count)


def test_upgrading_a_database_with_scopes_counts_their_tallies(own_engine: Engine) -> None:
    upgrade(own_engine)
    uow_factory = UnitOfWorkFactory(own_engine)
    factories = Factories(uow_factory)
    scene = factories.scene()
    factories.category_path(scene.world)
    order = factories.work_order(scene.world, scene.customer, scene.site)
    factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    factories.note(scene.world, order)
    scopes = [f"technician:{scene.technician.id}", "taxonomy"]
    before = {s: _kept_and_full(uow_factory, scene.world.tenant_id, s)[1] for s in scopes}

    migrate(own_engine, "downgrade", "0008")  # as the data stood before running tallies
    upgrade(own_engine)

    with own_engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(SyncScopeTally)) == 2
    for scope in scopes:
        kept, full = _kept_and_full(uow_factory, scene.world.tenant_id, scope)
        assert kept == full == before[scope] and full[1] > 0, scope
    factories.note(scene.world, order, "after the upgrade")
    kept, full = _kept_and_full(uow_factory, scene.world.tenant_id, scopes[0])
    assert kept == full and full[1] == before[scopes[0]][1] + 1
