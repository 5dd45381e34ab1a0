"""Two real ``fieldline worker`` processes on PostgreSQL dispatch every order exactly once.

Both claim the outbox (``SKIP LOCKED``) and both run the offer timeout sweep. Orders
are created in ``offer`` mode; each must get exactly one pending offer, its
technician told once; then every offer is made due at once and both workers'
sweeps race over them: each must be expired once and passed to exactly one next
candidate (attempt 2), never to the same technician twice.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from api.audit.models import AuditEvent
from api.db import UnitOfWorkFactory, utcnow
from api.dispatching.models import Offer
from api.notifications.models import Notification
from api.outbox.models import OutboxMessage, OutboxStatus
from api.tenants import settings
from tests.conftest import backend
from tests.support.factories import Factories
from tests.support.positions import ALWAYS, LAT, LON
from tests.support.server import FieldlineServer

pytestmark = pytest.mark.skipif(
    backend() != "postgresql", reason="several workers share a database on PostgreSQL"
)
ORDERS = 24
PEOPLE = 6


def _wait(check: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def test_two_workers_offer_and_time_out_each_order_exactly_once(
    factories: Factories, uow_factory: UnitOfWorkFactory, database_url: str, tmp_path: Path
) -> None:
    world = factories.tenant()
    settings.set_settings(
        uow_factory(),
        world.admin_actor,
        {"dispatch_mode": "offer", "offer_timeout_s": 3600, "offer_max_declines": 3},
        settings.DISPATCH_FIELDS,
    )
    for n in range(PEOPLE):
        factories.technician_user(
            world,
            working_hours=ALWAYS,
            skills=[{"skill": "hvac", "level": 3}],
            home_base={"address": "家", "position": {"lat": LAT, "lon": LON + n / 100}},
        )
    orders = [factories.work_order(world).id for _ in range(ORDERS)]
    workers = FieldlineServer(
        database_url,
        tmp_path,
        with_worker=False,
        tenant=None,
        env={"FIELDLINE_WORKER_POLL_SECONDS": "0.1", "FIELDLINE_OFFER_SWEEP_SECONDS": "0.2"},
    )
    try:
        workers.start_worker("worker-1")
        workers.start_worker("worker-2")

        def pending_by_attempt(attempt: int) -> bool:
            with uow_factory() as uow:
                count = uow.session.scalar(
                    select(func.count()).where(
                        Offer.tenant_id == world.tenant_id,
                        Offer.state == "pending",
                        Offer.attempt == attempt,
                    )
                )
                busy = uow.session.scalar(
                    select(func.count()).where(OutboxMessage.status == OutboxStatus.PENDING)
                )
            return count == ORDERS and busy == 0

        _wait(lambda: pending_by_attempt(1), "a first offer for every order")
        with uow_factory() as uow:  # every offer falls due at once
            uow.session.execute(
                update(Offer)
                .where(Offer.tenant_id == world.tenant_id, Offer.state == "pending")
                .values(expires_at=utcnow())
            )
            uow.commit()
        _wait(lambda: pending_by_attempt(2), "a second offer for every order")
    finally:
        logs = {name: p.log_text() for name, p in workers.processes.items()}
        workers.stop()
    assert "Traceback" not in "".join(logs.values()), logs

    with uow_factory() as uow:
        offers = uow.session.scalars(select(Offer).where(Offer.tenant_id == world.tenant_id)).all()
        told = Counter(
            uow.session.scalars(
                select(Notification.data["offer_id"].as_string()).where(
                    Notification.tenant_id == world.tenant_id,
                    Notification.kind == "work_order.offered",
                )
            )
        )
        expiries = uow.session.scalar(
            select(func.count()).where(
                AuditEvent.tenant_id == world.tenant_id, AuditEvent.action == "offer_expire"
            )
        )
    by_order: dict[object, list[Offer]] = {}
    for offer in offers:
        by_order.setdefault(offer.work_order_id, []).append(offer)
    assert sorted(by_order, key=str) == sorted(orders, key=str)
    for chain in by_order.values():
        chain.sort(key=lambda o: o.attempt)
        assert [(o.attempt, o.state) for o in chain] == [(1, "expired"), (2, "pending")]
        assert chain[0].technician_id != chain[1].technician_id
    assert expiries == ORDERS  # each timeout acted on once, by one of the two workers
    assert sorted(told) == sorted(str(o.id) for o in offers)  # each offer told once
    assert set(told.values()) == {1}
