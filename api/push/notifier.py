"""The Web Push channel: one notification to one browser subscription, with pywebpush.

The payload (``{title, body, data, url}``, JSON) is encrypted for the browser
(RFC 8291, aes128gcm) and signed for the push service with the tenant's VAPID
key (RFC 8292). ``TTL`` says how long the push service may hold it for an
offline phone; ``Urgency: high`` wakes a phone for the steps a customer waits
for; ``Topic`` (the notification id) makes a resend of the same notification
replace the first while it is still undelivered, so a worker that crashed after
sending cannot show it twice. A 404 or 410 means the browser unsubscribed: the
subscription is deleted, as is one whose endpoint leads to this server's own network
(:mod:`api.push.outbound` checks the address each connection reaches, and follows no
redirect). A 429, a 5xx or a network error raises
:class:`DeliveryFailed` and the outbox tries again with backoff; any other
answer is final (retrying a 400 or 413 would get the same).
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Literal, Protocol

import requests
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.notifications.channels import DeliveryFailed, Message
from api.push import vapid
from api.push.models import PushSubscription
from api.push.outbound import InwardTarget, PublicSession
from api.users.models import User

log = logging.getLogger("fieldline.push")

_GONE = {404, 410}
Outcome = Literal["delivered", "gone", "refused"]
# Push services take 4096 bytes of encrypted body; aes128gcm adds 103 (header, padding
# delimiter, tag) to the JSON. Kept below with a margin.
MAX_PAYLOAD_BYTES = 3800


def payload(message: Message) -> bytes:
    """``{title, body, data, url}`` as UTF-8 JSON that fits a push message. A long
    reason (1,000 Chinese characters is 3 kB) is dropped from ``data`` and shortened
    in ``body``: the app reads the whole notification by ``data.notification_id``."""
    content = {"title": message.title, "body": message.body, "data": message.data}
    content["url"] = message.url
    encoded = json.dumps(content, ensure_ascii=False).encode("utf-8")
    if len(encoded) <= MAX_PAYLOAD_BYTES:
        return encoded
    content["data"] = {k: v for k, v in message.data.items() if k != "reason"}
    text = message.body or ""
    while True:
        encoded = json.dumps(content, ensure_ascii=False).encode("utf-8")
        if len(encoded) <= MAX_PAYLOAD_BYTES or not text:
            return encoded
        text = text[: len(text) * 3 // 4]
        content["body"] = text + "…" if text else None


class WebPushNotifier:
    name = "web_push"

    def __init__(
        self,
        secret: str,
        subject: str,
        ttl_seconds: int,
        timeout: float = 10.0,
        *,
        allow_loopback: bool = False,
    ) -> None:
        """``allow_loopback``: deliver to this machine too (the tests' push service)."""
        self._secret, self._subject = secret, subject
        self._ttl, self._timeout = ttl_seconds, timeout
        self._http = PublicSession(allow_loopback)

    def targets(self, session: Session, user: User) -> list[str]:
        found = session.scalars(
            select(PushSubscription.id)
            .where(
                PushSubscription.tenant_id == user.tenant_id, PushSubscription.user_id == user.id
            )
            .order_by(PushSubscription.id)
        )
        return [str(ident) for ident in found]

    def send(self, session: Session, user: User, message: Message, target: str) -> None:
        row = session.scalars(
            select(PushSubscription).where(
                PushSubscription.tenant_id == user.tenant_id,
                PushSubscription.user_id == user.id,
                PushSubscription.id == uuid.UUID(target),
            )
        ).one_or_none()
        if row is None:
            return  # unsubscribed since: nothing to do
        outcome = self.push(session, user.tenant_id, row, message)
        if outcome == "delivered":
            row.last_delivered_at = utcnow()
        elif outcome == "gone":
            session.delete(row)  # the browser unsubscribed or the subscription expired

    def push(
        self, session: Session, tenant_id: uuid.UUID, target: PushTarget, message: Message
    ) -> Outcome:
        """Send ``message`` to one browser under the tenant's VAPID key: ``delivered``,
        ``gone`` (404, 410: the caller deletes the subscription) or ``refused`` (for good,
        e.g. 400 or 413). Raises :class:`DeliveryFailed` when a retry may succeed."""
        key = vapid.private_key(vapid.tenant_key(session, tenant_id, self._secret), self._secret)
        try:
            webpush(
                {
                    "endpoint": target.endpoint,
                    "keys": {"p256dh": target.p256dh, "auth": target.auth},
                },
                payload(message).decode("utf-8"),  # fits a push message (a long body is cut)
                vapid_private_key=Vapid02(private_key=key),
                vapid_claims={"sub": self._subject},  # pywebpush adds aud and exp
                ttl=self._ttl,
                headers={
                    "Urgency": "high" if message.urgent else "normal",
                    "Topic": message.notification_id.hex,
                },
                timeout=self._timeout,
                requests_session=self._http,
            )
        except InwardTarget:
            log.warning("push endpoint leads inward: subscription dropped")
            return "gone"
        except WebPushException as exc:
            return self._failed(exc)
        except requests.RequestException as exc:
            raise DeliveryFailed(f"push service unreachable: {type(exc).__name__}") from None
        return "delivered"

    def _failed(self, exc: WebPushException) -> Outcome:
        status = exc.response.status_code if exc.response is not None else None
        if status in _GONE:
            return "gone"
        if status is None or status == 429 or status >= 500:
            raise DeliveryFailed(f"push service answered {status}") from None
        log.warning("push refused for good", extra={"status": status})
        return "refused"


class PushTarget(Protocol):
    """A browser's subscription: any row with these (a person's, a tracking page's)."""

    endpoint: str
    p256dh: str
    auth: str
