"""Several workers on PostgreSQL share the outbox without running a message twice."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
from sqlalchemy.orm import Session

from api.db import UnitOfWorkFactory
from api.outbox.models import OutboxMessage
from api.outbox.services import publish
from api.outbox.worker import RetryPolicy, run_once
from tests.conftest import backend

pytestmark = pytest.mark.skipif(
    backend() != "postgresql", reason="SKIP LOCKED is a PostgreSQL feature"
)


def test_four_concurrent_workers_run_each_message_exactly_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        for n in range(200):
            publish(uow.session, None, "test.count", {"n": n})
        uow.commit()
    runs: Counter[uuid.UUID] = Counter()
    lock = threading.Lock()

    def count(session: Session, message: OutboxMessage) -> None:
        with lock:
            runs[message.id] += 1

    def worker() -> None:
        for _ in range(100):  # bounded
            if run_once(uow_factory, {"test.count": count}, RetryPolicy(), batch_size=7) == 0:
                return

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(runs) == 200
    assert set(runs.values()) == {1}
