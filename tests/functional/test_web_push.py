"""Web Push: a customer's browser subscribes, and the worker pushes their notifications to it,
encrypted for that browser and signed with the tenant's VAPID key; dead subscriptions go,
and a push service's 500 is tried again later."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from api.db import UnitOfWorkFactory, utcnow
from api.notifications import delivery
from api.notifications.models import Notification
from api.outbox.models import OutboxMessage, OutboxStatus
from api.outbox.registry import HANDLERS
from api.outbox.worker import Handler, run_once
from api.push.models import PushSubscription
from api.push.notifier import WebPushNotifier
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.factories.core import SECRET
from tests.support.push_service import BrowserKeys, PushService, vapid_claims

SUBJECT = "mailto:ops@example.com"


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService().start()
    yield service
    service.stop()


@pytest.fixture
def topics() -> dict[str, Handler]:
    return {
        **HANDLERS,
        **delivery.handlers(
            [WebPushNotifier(SECRET, SUBJECT, ttl_seconds=3600, allow_loopback=True)]
        ),
    }


def _work(uow_factory: UnitOfWorkFactory, topics: dict[str, Handler]) -> None:
    while run_once(uow_factory, topics):
        pass


def _subscribe(client: ApiClient, token: str, body: dict[str, Any]) -> str:
    response = client.as_(token).post("/v1/push/subscriptions", json=body)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def test_a_customer_gets_their_order_news_pushed_encrypted_and_signed_by_the_tenant(
    client: ApiClient,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
    push_service: PushService,
    topics: dict[str, Handler],
) -> None:
    scene = factories.scene()
    world = scene.world
    browser = BrowserKeys()
    key = client.as_(scene.contact_token).get("/v1/push/vapid-public-key").get_json()["public_key"]
    _subscribe(client, scene.contact_token, browser.subscription(f"{push_service.origin}/p/one"))

    order = factories.work_order(world, scene.customer, scene.site)
    factories.transition(world, order, "assign", assignee_id=scene.technician.id)
    _work(uow_factory, topics)

    (push,) = push_service.received  # the technician has no browser subscribed
    with uow_factory.reader() as uow:
        notice = uow.session.scalars(
            select(Notification).where(Notification.user_id == scene.contact_user_id)
        ).one()
    assert browser.open(push.body) == {
        "title": notice.title,
        "body": notice.body,
        "url": f"/work-orders/{order.id}",
        "data": {
            **notice.data,
            "kind": "work_order.status_changed",
            "notification_id": str(notice.id),
        },
    }
    assert push.headers["content-encoding"] == "aes128gcm"
    assert push.headers["ttl"] == "3600"
    assert push.headers["urgency"] == "high"  # a customer waits for "assigned"
    claims = vapid_claims(push.headers["authorization"], key, audience=push_service.origin)
    assert claims["sub"] == SUBJECT and claims["exp"] > utcnow().timestamp()


def test_a_gone_subscription_is_removed_and_a_failing_push_service_is_tried_again(
    client: ApiClient,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
    push_service: PushService,
    topics: dict[str, Handler],
) -> None:
    scene = factories.scene()
    phone, laptop = BrowserKeys(), BrowserKeys()
    phone_id = _subscribe(
        client, scene.contact_token, phone.subscription(f"{push_service.origin}/p/phone")
    )
    laptop_id = _subscribe(
        client, scene.contact_token, laptop.subscription(f"{push_service.origin}/p/laptop")
    )
    push_service.answers["/p/phone"].append(503)
    push_service.answers["/p/laptop"].append(410)

    order = factories.work_order(scene.world, scene.customer, scene.site)
    factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    _work(uow_factory, topics)

    contact = client.as_(scene.contact_token)
    assert contact.delete(f"/v1/push/subscriptions/{laptop_id}").status_code == 404  # gone
    with uow_factory() as uow:
        (waiting,) = uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
        )
        assert waiting.payload["target"] == phone_id and "503" in (waiting.last_error or "")
        assert waiting.available_at > utcnow()  # backed off
        waiting.available_at = utcnow()  # ... and now due
        uow.commit()
    _work(uow_factory, topics)

    retried = [r for r in push_service.received if r.path == "/p/phone"]
    assert len(retried) == 2
    assert phone.open(retried[-1].body)["url"] == f"/work-orders/{order.id}"
    with uow_factory.reader() as uow:
        assert (
            uow.session.scalars(
                select(OutboxMessage.status).where(OutboxMessage.status != OutboxStatus.DONE)
            ).all()
            == []
        )
        row = uow.session.scalars(select(PushSubscription)).one()
        assert str(row.id) == phone_id and row.last_delivered_at is not None


def test_a_push_the_service_refuses_as_malformed_is_not_sent_again(
    client: ApiClient,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
    push_service: PushService,
    topics: dict[str, Handler],
) -> None:
    scene = factories.scene()
    _subscribe(
        client, scene.contact_token, BrowserKeys().subscription(f"{push_service.origin}/p/x")
    )
    push_service.answers["/p/x"].append(400)  # retrying would get the same answer
    order = factories.work_order(scene.world, scene.customer, scene.site)
    factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
    _work(uow_factory, topics)

    assert len(push_service.received) == 1
    with uow_factory.reader() as uow:
        assert (
            uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.status != OutboxStatus.DONE)
            ).all()
            == []
        )
        assert uow.session.scalars(select(PushSubscription)).one().last_delivered_at is None


def test_a_subscription_needs_an_https_endpoint_and_well_formed_browser_keys(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    contact = client.as_(scene.contact_token)
    good = BrowserKeys().subscription("https://push.example.com/send/abc")

    plain = {**good, "endpoint": "http://push.example.com/send/abc"}
    refused = contact.post("/v1/push/subscriptions", json=plain)
    assert refused.status_code == 422 and refused.get_json()["code"] == "push.endpoint_refused"

    short_key = {**good, "keys": {"p256dh": good["keys"]["p256dh"][:43], "auth": "AAAA"}}
    invalid = contact.post("/v1/push/subscriptions", json=short_key)
    assert invalid.status_code == 422
    assert invalid.get_json()["code"] == "request.validation_failed"
    assert {e["field"] for e in invalid.get_json()["errors"]} == {"keys.p256dh", "keys.auth"}

    assert contact.post("/v1/push/subscriptions", json=good).status_code == 201


def test_only_the_subscriber_can_unsubscribe_and_a_browser_follows_whoever_signed_in_last(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    body = BrowserKeys().subscription("https://push.example.com/send/shared")
    first = _subscribe(client, scene.contact_token, body)

    technician = client.as_(scene.technician_token)
    assert technician.delete(f"/v1/push/subscriptions/{first}").status_code == 404
    assert _subscribe(client, scene.technician_token, body) == first  # same browser, same row
    with uow_factory.reader() as uow:
        row = uow.session.scalars(select(PushSubscription)).one()
    assert row.user_id != scene.contact_user_id  # now the technician's
    contact = client.as_(scene.contact_token)
    assert contact.delete(f"/v1/push/subscriptions/{first}").status_code == 404
    assert technician.delete(f"/v1/push/subscriptions/{first}").status_code == 204


def test_the_tenants_vapid_private_key_is_stored_wrapped_under_the_app_secret(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    from api.push import vapid
    from api.push.models import TenantVapidKey
    from signatures import keyring

    world = factories.tenant()
    shown = client.as_(world.admin_token).get("/v1/push/vapid-public-key").get_json()
    with uow_factory.reader() as uow:
        row = uow.session.scalars(
            select(TenantVapidKey).where(TenantVapidKey.tenant_id == world.tenant_id)
        ).one()
    assert shown == {"public_key": row.public_key}
    assert vapid.private_key(row, SECRET).public_key().public_numbers()  # opens with the secret
    with pytest.raises(keyring.KeyUnwrapError):
        vapid.private_key(row, "another-secret")


def test_after_the_secret_changes_the_vapid_key_is_rewrapped_and_browsers_keep_its_public_half(
    client: ApiClient,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from click.testing import CliRunner

    from api.cli import main
    from api.push import vapid
    from api.push.models import TenantVapidKey
    from signatures import keyring

    world = factories.tenant()
    pinned = client.as_(world.admin_token).get("/v1/push/vapid-public-key").get_json()
    with uow_factory() as uow:  # as if wrapped under the previous secret
        row = uow.session.scalars(select(TenantVapidKey)).one()
        raw = vapid.private_key(row, SECRET).private_numbers().private_value.to_bytes(32, "big")
        row.wrapped_private_key = keyring.wrap_bytes(
            "the old secret", row.tenant_id, row.id, raw, info=b"fieldline tenant vapid key wrap v1"
        )
        uow.commit()

    monkeypatch.setenv("FIELDLINE_DATABASE_URL", database_url)
    monkeypatch.setenv("FIELDLINE_SECRET_KEY", SECRET)
    monkeypatch.setenv("FIELDLINE_OLD_SECRET_KEY", "the old secret")
    result = CliRunner().invoke(main, ["rewrap-signing-keys"])
    assert result.exit_code == 0, result.output
    assert "1 Web Push keys re-wrapped" in result.output

    with uow_factory.reader() as uow:
        row = uow.session.scalars(select(TenantVapidKey)).one()
        assert (
            vapid.private_key(row, SECRET).private_numbers().private_value.to_bytes(32, "big")
            == raw
        )
    assert client.as_(world.admin_token).get("/v1/push/vapid-public-key").get_json() == pinned
