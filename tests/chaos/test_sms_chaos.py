"""A flaky SMS provider: timeouts, 5xx and throttling, then recovery or none.

The outbox worker (its real claim, retry and backoff) sends to a local fake
provider that answers as scripted. A text survives the provider's bad minutes
and is sent once it recovers; a provider that never recovers leaves the text
``failed`` after ``max_attempts`` tries, not retried for ever.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from api.db import UnitOfWorkFactory, utcnow
from api.outbox.models import OutboxMessage, OutboxStatus
from api.outbox.registry import HANDLERS
from api.outbox.worker import Handler, run_once
from api.sms import orders as sms_orders
from api.sms.models import SmsMessage, SmsStatus
from api.sms.notifier import SmsNotifier, SmsSettings
from api.sms.providers import ProviderSettings
from tests.support.factories import Factories
from tests.support.sms_provider import KEY_ID, KEY_SECRET, FakeSmsProvider

TEMPLATES = {"zh-CN": {"assigned": "SMS_100"}}


@pytest.fixture
def provider() -> Iterator[FakeSmsProvider]:
    fake = FakeSmsProvider(slow_seconds=1.5).start()
    yield fake
    fake.stop()


def topics(provider: FakeSmsProvider, max_attempts: int) -> dict[str, Handler]:
    settings = ProviderSettings(
        endpoint=provider.origin,
        key_id=KEY_ID,
        key_secret=KEY_SECRET,
        sender="菲尔德服务",
        templates=TEMPLATES,
        timeout=0.3,  # the "slow" answers come after it
    )
    notifier = SmsNotifier(
        SmsSettings("aliyun", "https://track.example.cn", settings, max_attempts=max_attempts)
    )
    return {**HANDLERS, **sms_orders.handlers([notifier])}


def assign_an_order(factories: Factories) -> None:
    scene = factories.scene()
    factories.contact(scene.world, scene.customer, phone="13800138000", is_primary=True)
    order = factories.work_order(scene.world, scene.customer, scene.site)
    factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)


def work_until_quiet(uow_factory: UnitOfWorkFactory, handlers: dict[str, Handler]) -> int:
    """Run the worker until nothing is due, then bring the backed-off sends forward (as
    the passing of time would) and go on; the number of rounds that needed it."""
    for rounds in range(20):  # bounded: a text retried for ever fails the test
        while run_once(uow_factory, handlers):
            pass
        with uow_factory() as uow:
            waiting = uow.session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.topic == sms_orders.SEND,
                    OutboxMessage.status == OutboxStatus.PENDING,
                )
            ).all()
            if not waiting:
                return rounds
            assert all(m.available_at > utcnow() for m in waiting)  # backed off, not spun
            uow.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([m.id for m in waiting]))
                .values(available_at=utcnow())
            )
            uow.commit()
    raise AssertionError("the text was still being retried after 20 rounds")


def the_text(uow_factory: UnitOfWorkFactory) -> tuple[SmsMessage, OutboxMessage]:
    with uow_factory.reader() as uow:
        text = uow.session.scalars(select(SmsMessage)).one()
        send = uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == sms_orders.SEND)
        ).one()
        return text, send


def test_a_text_outlives_timeouts_5xx_and_throttling_and_is_sent_when_the_provider_recovers(
    factories: Factories, uow_factory: UnitOfWorkFactory, provider: FakeSmsProvider
) -> None:
    provider.answers.extend(["slow", 503, "isp.SYSTEM_ERROR", "Throttling.User", 500])
    assign_an_order(factories)
    rounds = work_until_quiet(uow_factory, topics(provider, max_attempts=8))

    text, send = the_text(uow_factory)
    assert rounds == 5  # each failure waited for its backoff before the next try
    assert (text.status, text.attempts) == (SmsStatus.SENT, 6)
    assert text.provider_message_id and text.provider_message_id.endswith("^0")  # its BizId
    assert send.status is OutboxStatus.DONE
    assert len(provider.texts) == 6 and {t.form["OutId"] for t in provider.texts} == {str(text.id)}
    assert all(t.signed for t in provider.texts)  # a fresh nonce and signature each try


def test_a_provider_that_never_recovers_leaves_the_text_failed_not_retried_for_ever(
    factories: Factories, uow_factory: UnitOfWorkFactory, provider: FakeSmsProvider
) -> None:
    provider.answers.extend([500, "slow", 502, 503, 504, 500, 500, 500])
    assign_an_order(factories)
    work_until_quiet(uow_factory, topics(provider, max_attempts=3))
    work_until_quiet(uow_factory, topics(provider, max_attempts=3))  # and nothing more

    text, send = the_text(uow_factory)
    assert (text.status, text.attempts) == (SmsStatus.FAILED, 3)
    assert text.reason == "aliyun answered 502"
    assert send.status is OutboxStatus.DONE  # recorded, not parked as dead
    assert len(provider.texts) == 3
