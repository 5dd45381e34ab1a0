"""The browser side of Web Push in Chromium: a page subscribes with /push-subscribe.js
(the browser's push service stubbed, as there is none offline), the service worker
shows what the server pushes, and unsubscribing removes the server's row."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import CDPSession, Page, sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from api.db import UnitOfWorkFactory
from api.notifications.channels import Message
from api.push.models import PushSubscription, TenantVapidKey
from api.push.notifier import payload
from tests.support.browser import CHROMIUM
from tests.support.factories import Factories
from tests.support.push_service import BrowserKeys, b64url_decode

_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

# What the browser's push service would hand back; the page's real code does the rest.
_STUB = """
window.askedWithKey = null;
PushManager.prototype.subscribe = async function (options) {
  window.askedWithKey = Array.from(new Uint8Array(options.applicationServerKey));
  const made = %s;
  return { toJSON: () => made, unsubscribe: async () => true };
};
"""


@pytest.fixture
def origin(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def test_a_page_subscribes_and_its_service_worker_shows_the_pushed_notification(
    origin: str, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    made = BrowserKeys().subscription("https://push.example.com/send/browser-1")
    notification_id = uuid.uuid4()
    pushed = Message(
        notification_id=notification_id,
        title="工单 WO-000001 的技术员已出发",
        body=None,
        data={"work_order_id": "x", "notification_id": str(notification_id)},
        url="/work-orders/x",
        urgent=True,
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=_ARGS)
        try:
            context = browser.new_context()
            context.grant_permissions(["notifications"], origin=origin)
            page = context.new_page()
            page.goto(f"{origin}/healthz")
            page.add_script_tag(url="/push-subscribe.js")
            page.add_script_tag(content=_STUB % json.dumps(made))
            subscription_id = page.evaluate(
                "token => FieldlinePush.subscribe(token)", scene.contact_token
            )
            asked_with = bytes(page.evaluate("window.askedWithKey"))

            cdp = context.new_cdp_session(page)
            registrations: list[dict[str, str]] = []
            cdp.on(
                "ServiceWorker.workerRegistrationUpdated",
                lambda event: registrations.extend(event["registrations"]),
            )
            cdp.send("ServiceWorker.enable")
            page.wait_for_function("navigator.serviceWorker.controller !== null")
            (registration_id,) = {r["registrationId"] for r in registrations if not r["isDeleted"]}
            shown = _deliver(cdp, origin, registration_id, payload(pushed).decode("utf-8"), page)
            with uow_factory.reader() as uow:
                row = uow.session.scalars(select(PushSubscription)).one()
            removed = page.evaluate(
                "token => FieldlinePush.unsubscribe(token)", scene.contact_token
            )
        finally:
            browser.close()

    with uow_factory.reader() as uow:
        key = uow.session.scalars(
            select(TenantVapidKey.public_key).where(
                TenantVapidKey.tenant_id == scene.world.tenant_id
            )
        ).one()
    assert asked_with == b64url_decode(key)  # subscribed under the tenant's VAPID key
    assert str(row.id) == subscription_id and row.user_id == scene.contact_user_id
    assert row.endpoint == made["endpoint"] and row.p256dh == made["keys"]["p256dh"]
    assert shown == [
        {
            "title": pushed.title,
            "tag": str(pushed.notification_id),
            "data": {**pushed.data, "url": "/work-orders/x"},
        }
    ]
    assert removed is True
    with uow_factory.reader() as uow:
        assert uow.session.scalars(select(PushSubscription)).all() == []


def _deliver(
    cdp: CDPSession, origin: str, registration_id: str, data: str, page: Page
) -> list[Any]:
    """Delivers the push and returns what the service worker showed. A push delivered
    while Chromium is still starting the worker can be dropped under load, so it is
    resent like a push service would; the tag (the notification id) makes a resend
    replace the first notification, so any second notification still fails the test."""
    for _ in range(3):
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": origin, "registrationId": registration_id, "data": data},
        )
        shown = _shown_notifications(page, timeout_s=8.0)
        if shown:
            return shown
    return shown


def _shown_notifications(page: Page, timeout_s: float) -> list[Any]:
    """The notifications the service worker shows, once there are some. Polled from
    Python: ``wait_for_function`` takes a Promise for a truthy value and would not wait."""
    deadline = time.monotonic() + timeout_s
    while True:
        shown: list[Any] = page.evaluate(
            """navigator.serviceWorker.ready.then(r => r.getNotifications())
               .then(ns => ns.map(n => ({title: n.title, tag: n.tag, data: n.data})))"""
        )
        if shown or time.monotonic() > deadline:
            return shown
        page.wait_for_timeout(100)
