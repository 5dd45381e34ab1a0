"""A tenant's VAPID key pair (RFC 8292): made on first use, the private half wrapped.

Browsers pin the public key when they subscribe (``applicationServerKey``), so a
tenant keeps one pair; the push service checks each request's signed JWT against
it. The private key is wrapped by :mod:`signatures.keyring` under a key derived
from the app secret with a VAPID-only label: a database copy alone cannot sign.
"""

from __future__ import annotations

import base64
import uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db import new_id, utcnow
from api.push.errors import VapidKeyUnavailable
from api.push.models import TenantVapidKey
from signatures import keyring

_INFO = b"fieldline tenant vapid key wrap v1"


def public_key(session: Session, tenant_id: uuid.UUID, secret: str) -> str:
    """The tenant's VAPID public key (base64url, uncompressed point), made if missing."""
    return tenant_key(session, tenant_id, secret).public_key


def tenant_key(session: Session, tenant_id: uuid.UUID, secret: str) -> TenantVapidKey:
    found = _find(session, tenant_id)
    if found is not None:
        return found
    private = ec.generate_private_key(ec.SECP256R1())
    key_id = new_id()
    row = TenantVapidKey(
        id=key_id,
        tenant_id=tenant_id,
        public_key=b64url(
            private.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        ),
        wrapped_private_key=keyring.wrap_bytes(
            secret, tenant_id, key_id, _raw_private(private), info=_INFO
        ),
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():  # two first uses at once: the second takes the first's
            session.add(row)
    except IntegrityError:
        winner = _find(session, tenant_id)
        assert winner is not None
        return winner
    return row


def private_key(row: TenantVapidKey, secret: str) -> ec.EllipticCurvePrivateKey:
    raw = keyring.unwrap_bytes(secret, row.tenant_id, row.id, row.wrapped_private_key, info=_INFO)
    return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())


def rewrap_all(session: Session, old_secret: str, new_secret: str) -> tuple[int, int]:
    """Re-wrap every tenant's VAPID key from ``old_secret`` to ``new_secret`` (after the
    app secret changed; the public keys, which browsers pinned, stay). Returns
    (re-wrapped, already current); :class:`VapidKeyUnavailable` if one opens with neither."""
    rewrapped = current = 0
    for row in session.scalars(select(TenantVapidKey).with_for_update()):
        try:
            keyring.unwrap_bytes(
                new_secret, row.tenant_id, row.id, row.wrapped_private_key, info=_INFO
            )
            current += 1
            continue
        except keyring.KeyUnwrapError:
            pass
        try:
            raw = keyring.unwrap_bytes(
                old_secret, row.tenant_id, row.id, row.wrapped_private_key, info=_INFO
            )
        except keyring.KeyUnwrapError:
            raise VapidKeyUnavailable(f"VAPID key {row.id} opens with neither secret") from None
        row.wrapped_private_key = keyring.wrap_bytes(
            new_secret, row.tenant_id, row.id, raw, info=_INFO
        )
        rewrapped += 1
    return rewrapped, current


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _raw_private(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_numbers().private_value.to_bytes(32, "big")


def _find(session: Session, tenant_id: uuid.UUID) -> TenantVapidKey | None:
    return session.scalars(
        select(TenantVapidKey).where(TenantVapidKey.tenant_id == tenant_id)
    ).one_or_none()
