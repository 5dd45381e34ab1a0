"""The classic hole, on PostgreSQL: writers commit out of order while a device pulls.

Each writer takes its change numbers and then dawdles before its COMMIT
completes (a ``before_commit`` listener that runs after the change-log hook),
so with numbers taken early (``nextval``) a fast reader would pass a number
whose transaction is still in flight and never see it. The counter lock of
PROTOCOL.md § 11.1 hands numbers out in commit order instead: the reader, walking
its cursor the whole time, must see every committed change exactly once.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import event, select

from api.db import UnitOfWorkFactory
from api.sync import services, tallies
from api.workorders.models import Note, WorkOrder
from sync_protocol.entities import Table
from sync_protocol.messages import PullResponse, RowUpsert
from tests.conftest import backend
from tests.support.factories import Factories
from tests.support.sync import pull_body

pytestmark = pytest.mark.skipif(
    backend() != "postgresql", reason="out-of-order commits need concurrent writers"
)

WRITERS = 6
NOTES_EACH = 25


def test_a_cursor_walk_sees_every_change_committed_out_of_order_exactly_once(
    uow_factory: UnitOfWorkFactory, factories: Factories
) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    actor = factories.technician_actor(scene.world, scene.technician)
    scope = f"technician:{scene.technician.id}"

    committed: list[uuid.UUID] = []
    lock = threading.Lock()
    writing = threading.Event()
    writing.set()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        rng = random.Random(n)

        def dawdle(_session: Any) -> None:
            time.sleep(rng.random() * 0.01)

        try:
            for i in range(NOTES_EACH):
                with uow_factory() as uow:
                    # Straight through the ORM: the test needs its listener on this session.
                    note = Note(
                        tenant_id=scene.world.tenant_id,
                        work_order_id=order.id,
                        body=f"writer {n} note {i}",
                        author_kind="system",
                    )
                    uow.session.add(note)
                    uow.session.flush()  # row locks and work before the commit, as a service does
                    time.sleep(rng.random() * 0.003)
                    event.listen(uow.session, "before_commit", dawdle)
                    uow.commit()
                with lock:
                    committed.append(note.id)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    cursors: dict[str, str | None] = {scope: None}
    seen: Counter[uuid.UUID] = Counter()
    versions: list[int] = []
    pulls_while_writing = 0

    def pull_all() -> None:
        while True:
            body = json.dumps(pull_body(dict(cursors), limit=7)).encode()
            page = services.pull(uow_factory, actor, body)
            assert isinstance(page, PullResponse)
            for change in page.changes:
                versions.append(change.version)
                if change.table is Table.NOTES:
                    assert isinstance(change, RowUpsert)
                    seen[change.id] += 1
            cursors.update(page.cursors)
            if not page.has_more:
                return

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        pull_all()
        pulls_while_writing += 1
    for thread in threads:
        thread.join(timeout=60)
    pull_all()

    assert errors == []
    assert len(committed) == WRITERS * NOTES_EACH
    assert pulls_while_writing >= 5, "the reader never overlapped the writers"
    assert set(seen) == set(committed)
    assert set(seen.values()) == {1}, "a change was delivered twice"
    # Change numbers reach the reader as a gap-free, strictly increasing run.
    assert versions == list(range(versions[0], versions[0] + len(versions)))


def test_running_tallies_stay_equal_to_a_recount_under_concurrent_writers(
    uow_factory: UnitOfWorkFactory, factories: Factories
) -> None:
    """Writers add notes to and rename the same orders at once; each transaction moves
    the scope's tally under the counter lock, so it ends equal to a full recount."""
    scene = factories.scene()
    orders = []
    for _ in range(2):
        order = factories.work_order(scene.world, scene.customer, scene.site)
        orders.append(
            factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
        )
    scope = f"technician:{scene.technician.id}"
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        rng = random.Random(n)
        try:
            for i in range(12):
                target = rng.choice(orders).id
                with uow_factory() as uow:
                    if rng.random() < 0.5:
                        uow.session.add(
                            Note(
                                tenant_id=scene.world.tenant_id,
                                work_order_id=target,
                                body=f"writer {n} note {i}",
                                author_kind="system",
                            )
                        )
                    else:  # the order row itself: its image (title, version) changes
                        stored = uow.session.scalars(
                            select(WorkOrder).where(WorkOrder.id == target).with_for_update()
                        ).one()
                        stored.title = f"writer {n} edit {i}"
                    uow.session.flush()
                    time.sleep(rng.random() * 0.003)
                    uow.commit()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    with uow_factory.reader() as uow:
        tally = tallies.read(uow.session, scene.world.tenant_id, scope)
        full = services.full_summary(uow.session, scene.world.tenant_id, scope)
    assert tally is not None and (tally.checksum, tally.count) == (full.checksum, full.count)
