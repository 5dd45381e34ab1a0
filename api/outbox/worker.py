"""The outbox worker: claim due messages, run their handlers, retry with backoff.

Claiming uses ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any number of
``fieldline worker`` processes share the queue without taking the same
message; each claim is also a lease (``locked_until``), so a worker that dies
mid-message only delays it. A handler's database writes commit in the same
transaction that marks the message done: for those, exactly once. Handlers
that reach outside (web push, webhooks) must deduplicate on the message id.
After ``max_attempts`` failures a message is parked as ``dead`` with its last
error, for an operator to inspect.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.db import UnitOfWorkFactory, utcnow
from api.observability import redact
from api.outbox.models import OutboxMessage, OutboxStatus

log = logging.getLogger("fieldline.worker")

Handler = Callable[[Session, OutboxMessage], None]


@dataclass(frozen=True)
class Periodic:
    """A job the worker runs every ``every_seconds`` (each worker process: jobs must be
    safe to run concurrently, as the escalation sweep is)."""

    name: str
    every_seconds: float
    run: Callable[[], object]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(minutes=5)

    def delay(self, attempts: int) -> timedelta:
        exponential: timedelta = min(self.cap, self.base * (2 ** max(0, attempts - 1)))
        # Jitter in [50 %, 100 %] so failed messages do not retry in lockstep.
        factor = 0.5 + random.random() / 2  # noqa: S311 - not cryptographic
        return timedelta(seconds=exponential.total_seconds() * factor)


def claim_batch(uow_factory: UnitOfWorkFactory, limit: int, policy: RetryPolicy) -> list[uuid.UUID]:
    with uow_factory() as uow:
        now = utcnow()
        stmt = (
            select(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.available_at <= now,
                or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
            )
            .order_by(OutboxMessage.available_at, OutboxMessage.id)
            .limit(limit)
        )
        if uow.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        messages = list(uow.session.scalars(stmt))
        for message in messages:
            message.locked_until = now + policy.lease
            message.attempts += 1
        uow.commit()
        return [m.id for m in messages]


def process(
    uow_factory: UnitOfWorkFactory,
    message_id: uuid.UUID,
    handlers: Mapping[str, Handler],
    policy: RetryPolicy,
) -> OutboxStatus:
    with uow_factory() as uow:
        session = uow.session
        message = session.get(OutboxMessage, message_id)
        if message is None or message.status is not OutboxStatus.PENDING:
            return OutboxStatus.DONE
        handler = handlers.get(message.topic)
        try:
            if handler is None:
                raise LookupError(f"no handler for topic {message.topic!r}")
            with session.begin_nested():  # a failing handler must not undo our bookkeeping
                handler(session, message)
        except Exception as exc:
            message.last_error = redact(f"{type(exc).__name__}: {exc}")[:2000]
            message.locked_until = None
            if handler is None or message.attempts >= policy.max_attempts:
                message.status = OutboxStatus.DEAD
                log.error(
                    "outbox message dead",
                    extra={"message_id": str(message.id), "topic": message.topic},
                )
            else:
                message.available_at = utcnow() + policy.delay(message.attempts)
        else:
            message.status = OutboxStatus.DONE
            message.processed_at = utcnow()
            message.locked_until = None
        status = message.status
        uow.commit()
        return status


def run_once(
    uow_factory: UnitOfWorkFactory,
    handlers: Mapping[str, Handler],
    policy: RetryPolicy | None = None,
    batch_size: int = 50,
) -> int:
    """Process one batch of due messages; returns how many were claimed."""
    policy = policy or RetryPolicy()
    ids = claim_batch(uow_factory, batch_size, policy)
    for message_id in ids:
        process(uow_factory, message_id, handlers, policy)
    return len(ids)


def run_forever(
    uow_factory: UnitOfWorkFactory,
    handlers: Mapping[str, Handler],
    stop: threading.Event,
    *,
    poll_interval: float = 1.0,
    policy: RetryPolicy | None = None,
    periodic: Sequence[Periodic] = (),
) -> None:
    """Run the outbox until ``stop``; between batches, each ``periodic`` job whose time has come
    (the escalation sweep): what such a job publishes is then run by this same loop."""
    log.info("outbox worker started")
    next_run = [0.0] * len(periodic)
    while not stop.is_set():
        for index, job in enumerate(periodic):
            if time.monotonic() >= next_run[index]:
                next_run[index] = time.monotonic() + job.every_seconds
                try:
                    job.run()
                except Exception:
                    log.exception("periodic job failed; retrying", extra={"job": job.name})
        try:
            claimed = run_once(uow_factory, handlers, policy)
        except Exception:
            log.exception("outbox worker iteration failed; retrying")
            claimed = 0
        if claimed == 0:
            stop.wait(poll_interval)
    log.info("outbox worker stopped")
