"""The transactional outbox and its worker: nothing lost, nothing run twice, failures parked."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit.models import AuditEvent
from api.db import UnitOfWorkFactory, utcnow
from api.outbox.models import OutboxMessage, OutboxStatus
from api.outbox.services import publish
from api.outbox.worker import RetryPolicy, run_once
from tests.support.factories import Factories

FAST = RetryPolicy(max_attempts=3, base=timedelta(0), cap=timedelta(0))


def _publish(uow_factory: UnitOfWorkFactory, topic: str, **payload: object) -> uuid.UUID:
    with uow_factory() as uow:
        publish(uow.session, None, topic, dict(payload))
        uow.session.flush()
        message_id = uow.session.scalars(select(OutboxMessage.id)).all()[-1]
        uow.commit()
        return message_id


def _message(uow_factory: UnitOfWorkFactory, message_id: uuid.UUID) -> OutboxMessage:
    with uow_factory() as uow:
        message = uow.session.get(OutboxMessage, message_id)
        assert message is not None
        return message


def test_a_rolled_back_transaction_publishes_nothing(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        publish(uow.session, None, "test.topic", {"n": 1})
        # no commit: the side effect must vanish with the change
    with uow_factory() as uow:
        assert uow.session.scalars(select(OutboxMessage)).all() == []


def test_a_handled_message_is_done_and_its_writes_commit_with_it(
    uow_factory: UnitOfWorkFactory, factories: Factories
) -> None:
    world = factories.tenant()
    seen: list[dict[str, object]] = []

    def handler(session: Session, message: OutboxMessage) -> None:
        seen.append(message.payload)
        session.add(
            AuditEvent(
                tenant_id=world.tenant_id,
                actor_kind="system",
                action="ping",
                entity_type="test",
                entity_id=message.id,
                changes={},
            )
        )

    message_id = _publish(uow_factory, "test.ping", n=1)
    assert run_once(uow_factory, {"test.ping": handler}, FAST) == 1
    assert run_once(uow_factory, {"test.ping": handler}, FAST) == 0  # nothing runs twice
    assert seen == [{"n": 1}]
    message = _message(uow_factory, message_id)
    assert message.status is OutboxStatus.DONE and message.processed_at is not None
    with uow_factory() as uow:
        assert uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "ping")).one()


def test_a_failing_handler_is_retried_with_backoff_then_parked_as_dead(
    uow_factory: UnitOfWorkFactory,
) -> None:
    calls = 0

    def flaky(session: Session, message: OutboxMessage) -> None:
        nonlocal calls
        calls += 1
        raise ConnectionError("push service unreachable; token=abc.def.ghi")

    slow = RetryPolicy(max_attempts=3, base=timedelta(hours=1), cap=timedelta(hours=2))
    message_id = _publish(uow_factory, "test.flaky")
    run_once(uow_factory, {"test.flaky": flaky}, slow)
    message = _message(uow_factory, message_id)
    assert message.status is OutboxStatus.PENDING and message.attempts == 1
    assert message.available_at > utcnow() + timedelta(minutes=29)  # backed off, not hammering
    assert "ConnectionError" in (message.last_error or "")
    assert run_once(uow_factory, {"test.flaky": flaky}, slow) == 0  # not due yet

    for _ in range(2):
        with uow_factory() as uow:
            due = uow.session.get(OutboxMessage, message_id)
            assert due is not None
            due.available_at = utcnow()
            uow.commit()
        run_once(uow_factory, {"test.flaky": flaky}, slow)
    message = _message(uow_factory, message_id)
    assert message.status is OutboxStatus.DEAD and message.attempts == 3 and calls == 3


def test_a_failing_handler_leaves_none_of_its_writes(
    uow_factory: UnitOfWorkFactory, factories: Factories
) -> None:
    world = factories.tenant()

    def half_done(session: Session, message: OutboxMessage) -> None:
        session.add(
            AuditEvent(
                tenant_id=world.tenant_id,
                actor_kind="system",
                action="half",
                entity_type="test",
                entity_id=message.id,
                changes={},
            )
        )
        session.flush()
        raise ValueError("boom")

    _publish(uow_factory, "test.half")
    run_once(uow_factory, {"test.half": half_done}, FAST)
    with uow_factory() as uow:
        assert (
            uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "half")).all() == []
        )


def test_a_message_without_a_handler_is_parked_at_once(uow_factory: UnitOfWorkFactory) -> None:
    message_id = _publish(uow_factory, "test.unknown")
    run_once(uow_factory, {}, FAST)
    message = _message(uow_factory, message_id)
    assert message.status is OutboxStatus.DEAD and "no handler" in (message.last_error or "")


def test_a_message_claimed_by_a_worker_that_died_is_picked_up_after_its_lease(
    uow_factory: UnitOfWorkFactory,
) -> None:
    from api.outbox.worker import claim_batch

    message_id = _publish(uow_factory, "test.lease")
    assert claim_batch(uow_factory, 10, RetryPolicy(lease=timedelta(minutes=5))) == [message_id]
    # ... the worker dies here. Another worker must not take it while the lease holds:
    assert claim_batch(uow_factory, 10, RetryPolicy()) == []
    with uow_factory() as uow:
        message = uow.session.get(OutboxMessage, message_id)
        assert message is not None
        message.locked_until = utcnow() - timedelta(seconds=1)
        uow.commit()
    done: list[uuid.UUID] = []
    run_once(uow_factory, {"test.lease": lambda s, m: done.append(m.id)}, FAST)
    assert done == [message_id]


@pytest.mark.parametrize("attempts", [1, 4, 10])
def test_backoff_grows_and_is_capped(attempts: int) -> None:
    policy = RetryPolicy(base=timedelta(seconds=2), cap=timedelta(minutes=10))
    delay = policy.delay(attempts)
    expected = min(timedelta(minutes=10), timedelta(seconds=2) * 2 ** (attempts - 1))
    assert expected / 2 <= delay <= expected
