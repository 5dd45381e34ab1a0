"""Email is the channel for people without a subscribed browser: a plain-text message
through the configured SMTP server (here a local aiosmtpd), in the recipient's language."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from api.db import UnitOfWorkFactory, utcnow
from api.notifications import delivery
from api.notifications.email import EmailNotifier, SmtpSettings
from api.notifications.models import Notification
from api.outbox.models import OutboxMessage, OutboxStatus
from api.outbox.registry import HANDLERS
from api.outbox.worker import run_once
from api.push.notifier import WebPushNotifier
from api.users.models import User
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.factories.core import SECRET
from tests.support.push_service import BrowserKeys, PushService


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.rcpt_answers: list[str] = []  # scripted answers to RCPT TO, then "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.rcpt_answers:
            return self.rcpt_answers.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with socket.socket() as probe:  # aiosmtpd needs a fixed port to check it is up
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


def test_without_a_subscribed_browser_the_notification_arrives_by_email_instead(
    client: ApiClient,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
    smtp: tuple[Mailbox, int],
) -> None:
    mailbox, port = smtp
    service = PushService().start()
    try:
        scene = factories.scene()
        body = BrowserKeys().subscription(f"{service.origin}/p/contact")
        subscribed = client.as_(scene.contact_token).post("/v1/push/subscriptions", json=body)
        assert subscribed.status_code == 201
        channels = [
            WebPushNotifier(SECRET, "mailto:ops@example.com", ttl_seconds=60, allow_loopback=True),
            EmailNotifier(SmtpSettings(host="127.0.0.1", port=port, sender="ops@example.com")),
        ]
        topics = {**HANDLERS, **delivery.handlers(channels)}

        order = factories.work_order(scene.world, scene.customer, scene.site)
        factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
        while run_once(uow_factory, topics):
            pass
    finally:
        service.stop()

    with uow_factory.reader() as uow:
        technician = uow.session.get(User, scene.technician.user_id)
        assert technician is not None
        notice = uow.session.scalars(
            select(Notification).where(Notification.user_id == technician.id)
        ).one()
    (mail,) = mailbox.messages  # the contact got a push, not an email as well
    assert [r.path for r in service.received] == ["/p/contact"]
    assert mail["To"] == technician.email and mail["From"] == "ops@example.com"
    assert mail["Subject"] == notice.title  # in the technician's language
    assert mail["Message-ID"] == f"<{notice.id}@fieldline>"
    assert notice.title in mail.get_content()


def test_a_mailbox_that_is_full_for_now_is_tried_again_and_one_that_does_not_exist_is_not(
    factories: Factories, uow_factory: UnitOfWorkFactory, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    mailbox.rcpt_answers = ["452 mailbox full, try later", "550 no such user"]
    channels = [EmailNotifier(SmtpSettings(host="127.0.0.1", port=port))]
    topics = {**HANDLERS, **delivery.handlers(channels)}
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    while run_once(uow_factory, topics):  # the contact (452) and the technician (550)
        pass

    with uow_factory() as uow:
        sends = uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == delivery.SEND)
        ).all()
        assert sorted(m.status for m in sends) == [OutboxStatus.DONE, OutboxStatus.PENDING]
        (waiting,) = [m for m in sends if m.status is OutboxStatus.PENDING]
        assert "452" in (waiting.last_error or "")
        waiting.available_at = utcnow()
        uow.commit()
    while run_once(uow_factory, topics):
        pass
    (mail,) = mailbox.messages
    assert mail["To"] == waiting.payload["target"]


def test_each_person_chooses_whether_email_comes_as_well_or_never(
    client: ApiClient,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
    smtp: tuple[Mailbox, int],
) -> None:
    mailbox, port = smtp
    service = PushService().start()
    try:
        scene = factories.scene()
        contact, technician = client.as_(scene.contact_token), client.as_(scene.technician_token)
        body = BrowserKeys().subscription(f"{service.origin}/p/contact")
        assert contact.post("/v1/push/subscriptions", json=body).status_code == 201
        assert contact.get("/v1/notification-preferences").get_json() == {"email": "when_no_push"}
        chose = contact.request("PUT", "/v1/notification-preferences", json={"email": "always"})
        assert chose.status_code == 200 and chose.get_json() == {"email": "always"}
        never = technician.request("PUT", "/v1/notification-preferences", json={"email": "never"})
        assert never.status_code == 200
        refused = technician.request(
            "PUT", "/v1/notification-preferences", json={"email": "sometimes"}
        )
        assert refused.status_code == 422
        channels = [
            WebPushNotifier(SECRET, "mailto:ops@example.com", ttl_seconds=60, allow_loopback=True),
            EmailNotifier(SmtpSettings(host="127.0.0.1", port=port)),
        ]
        topics = {**HANDLERS, **delivery.handlers(channels)}

        order = factories.work_order(scene.world, scene.customer, scene.site)
        factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
        while run_once(uow_factory, topics):
            pass
    finally:
        service.stop()

    with uow_factory.reader() as uow:
        contact_user = uow.session.get(User, scene.contact_user_id)
        assert contact_user is not None
    assert [r.path for r in service.received] == ["/p/contact"]  # the push, and also ...
    assert [m["To"] for m in mailbox.messages] == [contact_user.email]  # ... the email
    assert technician.get("/v1/notification-preferences").get_json() == {"email": "never"}
