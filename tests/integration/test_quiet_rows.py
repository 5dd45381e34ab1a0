"""A device polling with nothing new is answered from its worker's memory, and a change
committed anywhere reaches its next pull (PostgreSQL LISTEN/NOTIFY, api.sync.quiet_rows)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from api.sync import noop
from sync_protocol.entities import Table
from tests.conftest import backend
from tests.integration.test_session_cache import wait_until
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene, WorkOrderView
from tests.support.server import REPO_ROOT
from tests.support.sync import Replica, pull_body, read_body

pytestmark = pytest.mark.skipif(backend() != "postgresql", reason="LISTEN/NOTIFY is PostgreSQL's")

# Adds a note from another process, through the app's own services.
NOTE_ELSEWHERE = """
import sys, uuid
import api.app  # every model, so each foreign key finds its table
from api.auth.actor import Actor
from api.auth.permissions import Role
from api.db import UnitOfWorkFactory, make_engine
from api.workorders import notes
actor = Actor(tenant_id=uuid.UUID(sys.argv[2]), role=Role.ADMIN, user_id=uuid.UUID(sys.argv[3]))
notes.add_note(UnitOfWorkFactory(make_engine(sys.argv[1]))(), actor, uuid.UUID(sys.argv[4]),
               {"body": "written by another worker"})
"""


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every time a quiet pull reads its row from the database."""
    seen: list[object] = []
    original = noop._read

    def counting(*args: Any) -> Any:
        seen.append(args)
        return original(*args)

    monkeypatch.setattr(noop, "_read", counting)
    return seen


def _synced_device(app: Flask, factories: Factories) -> tuple[Scene, WorkOrderView, Replica]:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    client = ApiClient(app.test_client()).as_(scene.technician_token)
    replica = Replica(client, {f"technician:{scene.technician.id}": None, "taxonomy": None})
    replica.sync()
    state = app.extensions["fieldline"]
    assert state.quiet_rows is not None
    assert wait_until(lambda: state.session_cache.online)
    return scene, order, replica


def _from_memory(replica: Replica, reads: list[object]) -> Callable[[], bool]:
    def poll() -> bool:
        before = len(reads)
        page = replica.pull_page()
        assert page.changes == () and page.checkpoint is not None
        return len(reads) == before

    return poll


def test_polls_with_nothing_new_are_answered_without_the_database(
    app: Flask, factories: Factories, reads: list[object]
) -> None:
    _scene, _order, replica = _synced_device(app, factories)
    checkpoint = replica.checkpoint
    assert wait_until(_from_memory(replica, reads))  # the first quiet poll reads and keeps
    before = len(reads)
    for _ in range(5):
        assert replica.pull_page().checkpoint == checkpoint
    assert len(reads) == before


def test_a_change_committed_by_this_worker_reaches_the_very_next_poll(
    app: Flask, factories: Factories, reads: list[object]
) -> None:
    scene, order, replica = _synced_device(app, factories)
    assert wait_until(_from_memory(replica, reads))
    factories.note(scene.world, order, "office note")

    page = replica.pull_page()

    assert [c.table for c in page.changes] == [Table.NOTES]


def test_a_change_committed_by_another_process_reaches_a_poll_once_its_notice_arrives(
    app: Flask, factories: Factories, reads: list[object], database_url: str
) -> None:
    scene, order, replica = _synced_device(app, factories)
    assert wait_until(_from_memory(replica, reads))
    world = scene.world
    subprocess.run(
        [sys.executable, "-c", NOTE_ELSEWHERE, database_url, str(world.tenant_id),
         str(world.admin.id), str(order.id)],
        cwd=REPO_ROOT,
        check=True,
        timeout=60,
    )  # fmt: skip
    notes: list[uuid.UUID] = []

    def delivered() -> bool:
        notes.extend(c.id for c in replica.pull_page().changes if c.table is Table.NOTES)
        return bool(notes)

    # Rows are kept up to 5 s (the session cache's TTL): well before, the notice did it.
    assert wait_until(delivered, timeout=2.0)
    assert len(notes) == 1


@pytest.mark.parametrize("directive", ["no-cache", "max-age=0"])
def test_a_pull_asking_for_a_fresh_answer_is_checked_against_the_database(
    app: Flask, factories: Factories, reads: list[object], directive: str
) -> None:
    """What the SDK sends right after its own push (PROTOCOL.md § 11.3)."""
    _scene, _order, replica = _synced_device(app, factories)
    assert wait_until(_from_memory(replica, reads))
    before = len(reads)
    body = pull_body(dict(replica.cursors), device_id=replica.device_id)

    response = replica.client.post("/v1/sync/pull", json=body, headers={"Cache-Control": directive})

    assert response.status_code == 200
    assert read_body(response)["changes"] == []
    assert len(reads) == before + 1
