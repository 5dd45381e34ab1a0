"""Two workers texting one number at once: the per-number limit still holds.

Each worker writes its text and checks the number's limit in its own transaction.
The test holds the first worker right after its check, before it commits, and lets
the second go until it has either checked too (then both found room: the bug) or
is seen waiting for the first (the number's turn is taken). No sleeps decide
anything: the first worker waits for one of those two states.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from sqlalchemy import Engine, event, select, text

from api.db import UnitOfWorkFactory
from api.outbox.models import OutboxMessage
from api.outbox.registry import HANDLERS
from api.outbox.worker import RetryPolicy, process
from api.sms import orders as sms_orders
from api.sms.models import SmsMessage, SmsStatus
from api.sms.notifier import SmsNotifier, SmsSettings
from api.sms.providers import ProviderSettings, Sms
from tests.support.factories import Factories


class HeldProvider:
    """A provider whose ``supports`` (asked right after the limit check) lets the test
    hold a worker there."""

    name = "aliyun"

    def __init__(self, on_check: Callable[[], None]) -> None:
        self.on_check = on_check

    def supports(self, kind: str, locale: str) -> bool:
        self.on_check()
        return True

    def send(self, sms: Sms) -> str:
        raise AssertionError("nothing is sent in this test")


def queue_two_texts(factories: Factories, uow_factory: UnitOfWorkFactory) -> list[uuid.UUID]:
    """Two orders of one customer, both just assigned: two texts for one number."""
    scene = factories.scene()
    factories.contact(scene.world, scene.customer, phone="138 0013 8000", is_primary=True)
    ids = []
    for _ in range(2):
        order = factories.work_order(scene.world, scene.customer, scene.site)
        factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
        with uow_factory() as uow:
            payload = {
                "tenant_id": str(scene.world.tenant_id),
                "work_order_id": str(order.id),
                "to_status": "assigned",
            }
            message = OutboxMessage(
                tenant_id=scene.world.tenant_id, topic=sms_orders.STATUS_CHANGED, payload=payload
            )
            uow.session.add(message)
            uow.commit()
            ids.append(message.id)
    return ids


def waiting_for_a_lock(engine: Engine, beginning: threading.Event) -> bool:
    """Whether the second worker is held up by the first one's transaction."""
    if engine.dialect.name != "postgresql":
        # SQLite: a writing transaction begins IMMEDIATE, so once the second worker
        # has taken its connection it cannot begin until the first commits.
        return beginning.is_set()
    with engine.connect() as connection:
        waiting = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            )
        ).scalar_one()
    return bool(waiting)


def test_two_workers_texting_one_number_at_once_send_no_more_than_its_limit(
    engine: Engine, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    first_id, second_id = queue_two_texts(factories, uow_factory)
    first_checked, second_checked, second_begins = (threading.Event() for _ in range(3))
    second: threading.Thread

    def on_check() -> None:
        if threading.current_thread() is not second:
            first_checked.set()
            deadline = time.monotonic() + 60  # only a guard against hanging for ever
            while not (second_checked.is_set() or waiting_for_a_lock(engine, second_begins)):
                assert time.monotonic() < deadline, "the second worker neither checked nor waited"
                second_checked.wait(0.01)
        else:
            second_checked.set()

    def on_connect(_connection: object) -> None:  # just before its transaction begins
        if threading.current_thread() is second:
            second_begins.set()

    notifier = SmsNotifier(
        SmsSettings(
            provider="aliyun",
            public_url="https://track.example.cn",
            provider_settings=ProviderSettings(),
            rate_limit="1/hour",
        ),
        provider=HeldProvider(on_check),
    )
    topics = {**HANDLERS, **sms_orders.handlers([notifier])}
    errors: list[BaseException] = []

    def work(message_id: uuid.UUID, after: threading.Event | None) -> None:
        try:
            if after is not None:
                after.wait()
            process(uow_factory, message_id, topics, RetryPolicy())
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    first = threading.Thread(target=work, args=(first_id, None))
    second = threading.Thread(target=work, args=(second_id, first_checked))
    event.listen(engine, "engine_connect", on_connect)
    try:
        first.start()
        second.start()
        first.join()
        second.join()
    finally:
        event.remove(engine, "engine_connect", on_connect)
    assert errors == []
    with uow_factory.reader() as uow:
        written = uow.session.scalars(select(SmsMessage)).all()
    outcomes = sorted((row.status, row.reason or "") for row in written)
    assert outcomes == [(SmsStatus.PENDING, ""), (SmsStatus.SUPPRESSED, "rate_limited")]
