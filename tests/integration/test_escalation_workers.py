"""Several real worker processes on PostgreSQL escalate each order exactly once, restarts too."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.auth.permissions import Role
from api.db import UnitOfWorkFactory, utcnow
from api.notifications.models import Notification
from api.outbox.models import OutboxMessage
from api.servicedesk import escalation_services
from api.servicedesk.escalating import rule_of
from api.servicedesk.escalation_models import Escalation, EscalationCheck, EscalationRule
from api.servicedesk.escalation_sweep import TOPIC, _fire
from api.workorders.models import WorkOrder
from tests.conftest import backend
from tests.support.factories import Factories

pytestmark = pytest.mark.skipif(
    backend() != "postgresql", reason="SKIP LOCKED and concurrent writers: PostgreSQL"
)
REPO = Path(__file__).resolve().parents[2]
ORDERS = 150


def _workers(database_url: str, data_dir: Path, count: int) -> list[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDLINE_")}
    env |= {
        "FIELDLINE_DATABASE_URL": database_url,
        "FIELDLINE_DATA_DIR": str(data_dir),
        "FIELDLINE_SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256",
        "FIELDLINE_EMBEDDED_WORKER": "false",
    }
    return [
        subprocess.Popen(
            [sys.executable, "-m", "api", "worker", "--once"],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(count)
    ]


def _wait(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, output.decode(errors="replace")[-3000:]


def test_three_worker_processes_escalate_each_order_once_and_a_restart_adds_nothing(
    database_url: str, factories: Factories, uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    world = factories.tenant()
    manager, _ = factories.user(world, Role.DISPATCHER, manager=True)
    for name, action, level in (("告知经理", "notify_managers", 1), ("提级", "raise_priority", 2)):
        escalation_services.create_escalation_rule(
            uow_factory(),
            world.admin_actor,
            {"name": name, "level": level, "trigger": "created", "minutes": 0, "action": action},
        )
    customer = factories.customer(world)
    site = factories.site(world, customer)
    for _ in range(ORDERS):
        factories.work_order(world, customer, site, priority="medium")

    _wait(_workers(database_url, tmp_path / "a", 3))  # all at once, racing for the checks
    _wait(_workers(database_url, tmp_path / "b", 2))  # restarted: nothing is left to do

    with uow_factory() as uow:
        session = uow.session
        fired = Counter(
            session.execute(select(Escalation.work_order_id, Escalation.rule_name)).all()
        )
        assert len(fired) == 2 * ORDERS and set(fired.values()) == {1}
        priorities = Counter(session.scalars(select(WorkOrder.priority)))
        assert priorities == {"high": ORDERS}  # raised once each, never twice
        messages = session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.topic == TOPIC)
        )
        assert messages == ORDERS
        notices = session.scalar(
            select(func.count()).where(
                Notification.user_id == manager.id, Notification.kind == "work_order.escalated"
            )
        )
        assert notices == ORDERS
        assert session.scalar(select(func.count()).select_from(EscalationCheck)) == 0


def test_two_transactions_firing_the_same_escalation_act_once(
    factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    """The unique constraint is the last guard: two sweeps that both planned the same
    escalation (say, one that read before the other committed) insert it once."""
    world = factories.tenant()
    factories.user(world, Role.DISPATCHER, manager=True)
    escalation_services.create_escalation_rule(
        uow_factory(),
        world.admin_actor,
        {
            "name": "告知经理",
            "level": 1,
            "trigger": "created",
            "minutes": 0,
            "action": "notify_managers",
        },
    )
    order_id = factories.work_order(world).id
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def fire() -> None:
        with uow_factory() as uow:
            session = uow.session
            order = session.get(WorkOrder, order_id)
            rule = rule_of(session.scalars(select(EscalationRule)).one())
            assert order is not None
            barrier.wait(timeout=30)
            results.append(_fire(session, order, rule, utcnow(), utcnow() + timedelta(seconds=1)))
            uow.commit()

    threads = [threading.Thread(target=fire) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [False, True]
    with uow_factory() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Escalation)) == 1
        messages = uow.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.topic == TOPIC)
        )
        assert messages == 1
