"""Subscribing a browser to Web Push, unsubscribing it, and the tenant's public key.

A subscription belongs to the person who made it (any role, customer contacts
included) and is only ever found through them: another person's subscription id
is a 404. Subscribing the same endpoint again (the browser renewed its keys, or
someone else signed in on it) updates the one row for that endpoint.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.db import UnitOfWork, utcnow
from api.errors.base import FieldProblem
from api.errors.common import ValidationFailed
from api.push import vapid
from api.push.errors import PushEndpointRefused, PushSubscriptionNotFound
from api.push.models import PushSubscription

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class SubscribeCommand:
    endpoint: str
    p256dh: str
    auth: str
    allow_http_loopback: bool = False  # FIELDLINE_PUSH_ALLOW_HTTP_LOOPBACK (tests, local dev)


def vapid_public_key(uow: UnitOfWork, actor: Actor, secret: str) -> str:
    with uow:
        key = vapid.public_key(uow.session, actor.tenant_id, secret)
        uow.commit()
        return key


def subscribe(uow: UnitOfWork, actor: Actor, command: SubscribeCommand) -> PushSubscription:
    check_endpoint(command.endpoint, command.allow_http_loopback)
    check_keys(command.p256dh, command.auth)
    assert actor.user_id is not None  # Permission.SELF: people only, never API keys
    with uow:
        session = uow.session
        row = _by_endpoint(session, actor.tenant_id, command.endpoint)
        if row is None:
            row = PushSubscription(tenant_id=actor.tenant_id, endpoint=command.endpoint)
            try:
                with session.begin_nested():  # the same browser subscribing twice at once
                    session.add(row)
                    row.user_id, row.p256dh, row.auth = actor.user_id, command.p256dh, command.auth
            except IntegrityError:
                row = _by_endpoint(session, actor.tenant_id, command.endpoint)
                assert row is not None
        row.user_id = actor.user_id
        row.p256dh, row.auth, row.created_at = command.p256dh, command.auth, utcnow()
        uow.commit()
        return row


def unsubscribe(uow: UnitOfWork, actor: Actor, subscription_id: uuid.UUID) -> None:
    with uow:
        row = _mine(uow.session, actor, subscription_id)
        uow.session.delete(row)
        uow.commit()


def _by_endpoint(session: Session, tenant_id: uuid.UUID, endpoint: str) -> PushSubscription | None:
    return session.scalars(
        select(PushSubscription)
        .where(PushSubscription.tenant_id == tenant_id, PushSubscription.endpoint == endpoint)
        .with_for_update()
    ).one_or_none()


def _mine(session: Session, actor: Actor, subscription_id: uuid.UUID) -> PushSubscription:
    row = session.scalars(
        select(PushSubscription).where(
            PushSubscription.id == subscription_id,
            PushSubscription.tenant_id == actor.tenant_id,
            PushSubscription.user_id == actor.user_id,
        )
    ).one_or_none()
    if row is None:
        raise PushSubscriptionNotFound()
    return row


def check_endpoint(endpoint: str, allow_http_loopback: bool) -> None:
    """An https URL on a public host: the worker POSTs to it, so a subscription (anyone
    with a tracking link can make one) must not aim it at this server's own network."""
    parts = urlsplit(endpoint)
    if parts.scheme == "https" and parts.hostname and not _internal(parts.hostname):
        return
    if parts.scheme == "http" and allow_http_loopback and parts.hostname in _LOOPBACK:
        return
    raise PushEndpointRefused(errors=[FieldProblem("endpoint", "invalid_format")])


def _internal(host: str) -> bool:
    """A name or address literal for this machine or a private network. (A public name
    that resolves to a private address is the sender's to refuse, not this check's.)"""
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return not address.is_global


def check_keys(p256dh: str, auth: str) -> None:
    problems = []
    point = _b64url(p256dh)
    if point is None or len(point) != 65 or not _on_curve(point):
        problems.append(FieldProblem("keys.p256dh", "invalid_format"))
    secret = _b64url(auth)
    if secret is None or len(secret) != 16:
        problems.append(FieldProblem("keys.auth", "invalid_format"))
    if problems:
        raise ValidationFailed(errors=problems)


def _b64url(text: str) -> bytes | None:
    if not text or set(text) - set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_="
    ):
        return None
    try:
        return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None


def _on_curve(point: bytes) -> bool:
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        return False
    return True
