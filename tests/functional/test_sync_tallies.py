"""Running scope checksums (PROTOCOL.md § 11.4): after any mix of writes each scope's
tally equals the checksum of its rows counted afresh, a pull's checkpoint is that tally
and verifies on a replica, and databases that have rows but no tallies are counted when
the schema reaches head or by ``fieldline sync-prime --recount``."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select, update

from api.cli import main
from api.customers.models import Contact
from api.db import UnitOfWorkFactory
from api.migrations import upgrade
from api.sync import services, tallies
from api.sync.models import SyncRowDigest, SyncScopeTally
from client_sdk.device import Device
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.factories.core import PASSWORD
from tests.support.factories.workorders import Scene
from tests.support.sync import Replica

TAXONOMY = "taxonomy"


def _scope(technician_id: uuid.UUID) -> str:
    return f"technician:{technician_id}"


def _tally_and_recount(
    uow_factory: UnitOfWorkFactory, tenant_id: uuid.UUID, scope: str
) -> tuple[tuple[str, int] | None, tuple[str, int]]:
    with uow_factory.reader() as uow:
        tally = tallies.read(uow.session, tenant_id, scope)
        full = services.full_summary(uow.session, tenant_id, scope)
    kept = None if tally is None else (tally.checksum, tally.count)
    return kept, (full.checksum, full.count)


class World:
    """A tenant with two technicians, orders moving between them, and an office editing."""

    def __init__(self, factories: Factories, client: ApiClient) -> None:
        self.factories = factories
        self.scene: Scene = factories.scene()
        world = self.scene.world
        self.office = client.as_(self.scene.dispatcher_token)
        self.techs = [self.scene.technician, factories.technician(world)]
        self.asset = factories.asset(world, self.scene.site)
        self.categories = factories.category_path(world)
        self.orders = [self._order(0, asset_ids=[self.asset.id]), self._order(1)]
        self.contacts = [factories.contact(world, self.scene.customer)]

    def _order(self, tech: int, **data: Any) -> Any:
        world = self.scene.world
        order = self.factories.work_order(world, self.scene.customer, self.scene.site, **data)
        return self.factories.transition(world, order, "assign", assignee_id=self.techs[tech].id)

    def scopes(self) -> list[str]:
        return [*(_scope(t.id) for t in self.techs), TAXONOMY]

    def do(self, op: str, pick: int, uow_factory: UnitOfWorkFactory) -> None:
        world = self.scene.world
        order = self.orders[pick % len(self.orders)]
        if op == "note":
            self.factories.note(world, order, f"note {pick}")
        elif op == "edit":
            self._patch(order.id, {"title": f"title {pick}"})
        elif op == "unlink":
            self._patch(order.id, {"asset_ids": []})
        elif op == "link":
            self._patch(order.id, {"asset_ids": [str(self.asset.id)]})
        elif op == "move":  # the order and its children leave one scope and enter the other
            self.factories.transition(world, order, "assign", assignee_id=self.techs[pick % 2].id)
        elif op == "new_order":
            self.orders.append(self._order(pick % 2))
        elif op == "contact":
            self.contacts.append(self.factories.contact(world, self.scene.customer))
        elif op == "delete_contact" and self.contacts:
            gone = self.contacts.pop(pick % len(self.contacts))
            with uow_factory() as uow:
                uow.session.delete(uow.session.get(Contact, gone.id))
                uow.commit()
        elif op == "category":
            self.factories.category_path(world, codes=(f"C{pick}",))

    def _patch(self, order_id: uuid.UUID, body: dict[str, Any]) -> None:
        etag = self.office.get(f"/v1/work-orders/{order_id}").headers["ETag"]
        answer = self.office.patch(f"/v1/work-orders/{order_id}", json=body, etag=etag)
        assert answer.status_code == 200, answer.get_data(as_text=True)


OPS = [
    "note",
    "edit",
    "unlink",
    "link",
    "move",
    "new_order",
    "contact",
    "delete_contact",
    "category",
]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 7)), max_size=10))
def test_tallies_equal_a_full_recount_after_any_mix_of_writes(
    client: ApiClient,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
    steps: list[tuple[str, int]],
) -> None:
    world = World(factories, client)
    replica = Replica(client.as_(world.scene.dispatcher_token), dict.fromkeys(world.scopes()))
    replica.sync()
    for op, pick in steps:
        world.do(op, pick, uow_factory)
        if pick % 3 == 0:
            replica.sync()  # pulls in between, so checkpoints of several versions are read
    replica.sync()

    tenant_id = world.scene.world.tenant_id
    assert replica.checkpoint is not None
    for scope in world.scopes():
        kept, full = _tally_and_recount(uow_factory, tenant_id, scope)
        assert kept == full, scope
        # The pull's checkpoint is that tally, and the replica's own rows agree with it.
        assert (replica.checkpoint.checksums[scope], replica.checkpoint.counts[scope]) == full
        assert replica.checksum(scope) == full[0]
        assert len(replica.ids(scope)) == full[1]


def test_a_checkpoint_is_read_from_the_tally_not_from_the_rows(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    """The pull answers with what the tally holds: proof it does not recompute."""
    world = World(factories, client)
    scope = _scope(world.techs[0].id)
    world.do("note", 0, uow_factory)
    forged = 0x0123456789ABCDEF
    with uow_factory() as uow:
        uow.session.execute(
            update(SyncScopeTally)
            .where(SyncScopeTally.tenant_id == world.scene.world.tenant_id)
            .where(SyncScopeTally.scope == scope)
            .values(total=forged)
        )
        uow.commit()

    replica = Replica(client.as_(world.scene.dispatcher_token), {scope: None})
    replica.sync()

    assert replica.checkpoint is not None
    assert replica.checkpoint.checksums[scope] == f"{forged:016x}"


def _forget_tallies(uow_factory: UnitOfWorkFactory, tenant_id: uuid.UUID) -> None:
    with uow_factory() as uow:
        for model in (SyncScopeTally, SyncRowDigest):
            uow.session.execute(delete(model).where(model.tenant_id == tenant_id))
        uow.commit()


def test_upgrading_to_head_counts_the_tallies_of_existing_scopes(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, engine: Engine
) -> None:
    world = World(factories, client)
    tenant_id = world.scene.world.tenant_id
    world.do("note", 1, uow_factory)
    # As after migration 0010 on a database with data: rows and a log, no tallies;
    # and one scope counted under an older definition of the row image.
    _forget_tallies(uow_factory, tenant_id)
    taxonomy = _tally_and_recount(uow_factory, tenant_id, TAXONOMY)[1]
    with uow_factory() as uow:
        tallies.recount(uow.session, tenant_id, TAXONOMY)
        uow.session.execute(
            update(SyncScopeTally)
            .where(SyncScopeTally.tenant_id == tenant_id, SyncScopeTally.scope == TAXONOMY)
            .values(fingerprint="an older image", total=1, count=1)
        )
        uow.commit()

    upgrade(engine)

    for scope in world.scopes():
        kept, full = _tally_and_recount(uow_factory, tenant_id, scope)
        assert kept == full and full[1] > 0, scope
    assert _tally_and_recount(uow_factory, tenant_id, TAXONOMY)[0] == taxonomy
    # And later writes carry on from the recounted tallies.
    world.do("move", 1, uow_factory)
    for scope in world.scopes():
        kept, full = _tally_and_recount(uow_factory, tenant_id, scope)
        assert kept == full, scope


def test_sync_prime_recount_rebuilds_tallies_that_went_wrong(
    client: ApiClient,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World(factories, client)
    tenant_id = world.scene.world.tenant_id
    scope = _scope(world.techs[0].id)
    with uow_factory() as uow:
        uow.session.execute(
            update(SyncScopeTally)
            .where(SyncScopeTally.tenant_id == tenant_id, SyncScopeTally.scope == scope)
            .values(total=42, count=2)
        )
        uow.session.execute(delete(SyncRowDigest).where(SyncRowDigest.scope == scope))
        uow.commit()

    monkeypatch.setenv("FIELDLINE_DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["sync-prime", "--recount"])

    assert result.exit_code == 0, result.output
    assert "recounted" in result.output
    kept, full = _tally_and_recount(uow_factory, tenant_id, scope)
    assert kept == full and full[1] > 2


def test_the_client_sdk_verifies_checkpoints_after_its_pushes_and_office_edits(
    app: Flask,
    tmp_path: Path,
    client: ApiClient,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = World(factories, client)
    technician, user, _ = factories.technician_user(world.scene.world)
    world.techs[0] = technician
    order = world._order(0, asset_ids=[world.asset.id])
    device = Device(tmp_path / "phone", transport=httpx.WSGITransport(app=app))
    try:
        device.login("http://fieldline.test", world.scene.world.slug, user.email, PASSWORD)
        assert device.sync().repaired == []
        for index in range(3):
            device.add_note(str(order.id), f"on site {index}")
        device.transition(str(order.id), "accept")
        world._patch(order.id, {"title": "moved by the office"})
        world._patch(order.id, {"asset_ids": []})
        report = device.sync()
    finally:
        device.close()

    assert report.receipts == {"applied": 4}
    assert report.repaired == []  # the SDK's own checksums equal the server's tallies
    kept, full = _tally_and_recount(uow_factory, world.scene.world.tenant_id, _scope(technician.id))
    assert kept == full
    with uow_factory.reader() as uow:
        assert (
            uow.session.scalar(
                select(SyncScopeTally.count).where(SyncScopeTally.scope == _scope(technician.id))
            )
            == full[1]
        )
