"""Change-log compaction (PROTOCOL.md § 12): what no device needs goes, and a device that
might have missed a removed tombstone is told to re-prime, never left with a stale row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from api.cli import main
from api.db import UnitOfWorkFactory, utcnow
from api.sync.models import SyncScopeChange
from api.sync.retention import compact
from api.workorders.models import WorkOrder
from api.workorders.states import Status
from sync_protocol.entities import TombstoneReason
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.sync import Replica, pull_body


def _log_size(uow_factory: UnitOfWorkFactory) -> int:
    with uow_factory.reader() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(SyncScopeChange)) or 0)


def test_compaction_keeps_every_replica_right_and_expires_cursors_behind_a_dropped_tombstone(
    client: ApiClient,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scene = factories.scene()
    world = scene.world
    scope = f"technician:{scene.technician.id}"
    staying = factories.work_order(world, scene.customer, scene.site)
    staying = factories.transition(world, staying, "assign", assignee_id=scene.technician.id)
    moving = factories.work_order(world, scene.customer, factories.site(world, scene.customer))
    moving = factories.transition(world, moving, "assign", assignee_id=scene.technician.id)
    for n in range(3):
        factories.note(world, staying, f"note {n}")
    factories.transition(world, staying, "accept")
    tech = client.as_(scene.technician_token)
    behind = Replica(tech, {scope: None})
    behind.sync()  # then stays offline across the reassignment below
    other = factories.technician(world)
    factories.transition(world, moving, "assign", assignee_id=other.id)  # tombstones in scope
    current = Replica(tech, {scope: None})
    current.sync()

    before = _log_size(uow_factory)
    with uow_factory() as uow:
        done = compact(uow.session, world.tenant_id, utcnow())
        uow.commit()
    assert done.superseded > 0 and done.expired_tombstones == 0
    assert _log_size(uow_factory) == before - done.superseded
    fresh = Replica(tech, {scope: None})
    fresh.sync()
    assert fresh.ids(scope) == current.ids(scope)
    assert fresh.checkpoint is not None and current.checkpoint is not None
    assert fresh.checkpoint.checksums[scope] == fresh.checksum(scope)
    behind.sync()  # its tombstones are still there: it catches up exactly
    assert behind.ids(scope) == current.ids(scope)

    # Long after: the tombstones are old enough to drop.
    stale = Replica(tech, {scope: None})
    stale.sync()
    stale.cursors[scope] = "c1.1"  # as if offline since before the reassignment
    with uow_factory() as uow:
        uow.session.execute(
            update(SyncScopeChange).values(recorded_at=utcnow() - timedelta(days=91))
        )
        uow.commit()
    monkeypatch.setenv("FIELDLINE_DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["sync-compact"])
    assert result.exit_code == 0, result.output
    assert "expired tombstones removed" in result.output

    response = tech.post(
        "/v1/sync/pull", json=pull_body(dict(stale.cursors), device_id=stale.device_id)
    )
    assert response.status_code == 409
    reset = response.get_json()["reset_required"]
    assert (reset["reason"], reset["scopes"], reset["push_first"]) == (
        "sync.cursor_expired",
        [scope],
        True,
    )
    current.sync()  # past every dropped tombstone: nothing to re-prime
    assert current.checkpoint is not None
    assert current.checkpoint.checksums[scope] == current.checksum(scope)
    again = Replica(tech, {scope: None})
    again.sync()
    assert again.ids(scope) == current.ids(scope)
    for key in again.rows:
        assert again.rows[key] == current.rows[key], key
    assert again.checkpoint is not None
    assert again.checkpoint.checksums[scope] == again.checksum(scope)


def test_finished_orders_leave_a_quiet_technicians_scope_after_seven_days(
    client: ApiClient,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scene = factories.scene()
    world = scene.world
    scope = f"technician:{scene.technician.id}"
    done = factories.work_order(world, scene.customer, scene.site)
    done = factories.advance(world, done, Status.CLOSED, scene.technician)
    active = factories.work_order(world, scene.customer, factories.site(world, scene.customer))
    active = factories.transition(world, active, "assign", assignee_id=scene.technician.id)
    replica = Replica(client.as_(scene.technician_token), {scope: None})
    replica.sync()
    assert ("work_orders", str(done.id)) in replica.ids(scope)

    with uow_factory() as uow:  # eight days pass without anything structural happening
        order = uow.session.get_one(WorkOrder, done.id)
        order.closed_at = utcnow() - timedelta(days=8)
        uow.commit()
    monkeypatch.setenv("FIELDLINE_DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["sync-compact"])
    assert result.exit_code == 0, result.output

    replica.sync()
    assert ("work_orders", str(done.id)) not in replica.ids(scope)
    assert ("work_orders", str(active.id)) in replica.ids(scope)
    assert ("work_orders", str(done.id), TombstoneReason.LEFT_SCOPE) in {
        (t, i, r) for _, t, i, r in replica.tombstones
    }
    assert replica.checkpoint is not None
    assert replica.checkpoint.checksums[scope] == replica.checksum(scope)
