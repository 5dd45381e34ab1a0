"""Tenant signing keys: the active key (made on first use), rotation, lookup by key id.

Private keys are stored wrapped by :mod:`signatures.keyring` under a key derived
from the app secret; rotation retires the active key (it keeps verifying what
it sealed) and makes a new one. Only :func:`active_private_key` unwraps.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.auth.actor import Actor
from api.db import UnitOfWork, new_id, utcnow
from api.signoff.errors import SigningKeyUnavailable
from api.signoff.models import TenantSigningKey
from signatures import keyring


def active_key(session: Session, tenant_id: uuid.UUID, secret: str) -> TenantSigningKey:
    """The tenant's active key, created the first time a tenant seals."""
    found = session.scalars(
        select(TenantSigningKey)
        .where(TenantSigningKey.tenant_id == tenant_id, TenantSigningKey.retired_at.is_(None))
        .order_by(TenantSigningKey.created_at.desc())
        .limit(1)
    ).one_or_none()
    return found if found is not None else _create(session, tenant_id, secret)


def active_private_key(key: TenantSigningKey, secret: str) -> Ed25519PrivateKey:
    try:
        return keyring.unwrap(secret, key.tenant_id, key.id, key.wrapped_private_key)
    except keyring.KeyUnwrapError:
        raise SigningKeyUnavailable() from None


def public_keys(session: Session, tenant_id: uuid.UUID) -> Callable[[str], Ed25519PublicKey | None]:
    """A lookup of the tenant's public keys by key id, retired ones included."""

    def lookup(key_id: str) -> Ed25519PublicKey | None:
        try:
            ident = uuid.UUID(key_id)
        except ValueError:
            return None
        text = session.scalar(
            select(TenantSigningKey.public_key).where(
                TenantSigningKey.tenant_id == tenant_id, TenantSigningKey.id == ident
            )
        )
        return keyring.load_public(text) if text else None

    return lookup


def list_keys(session: Session, actor: Actor) -> Sequence[TenantSigningKey]:
    return session.scalars(
        select(TenantSigningKey)
        .where(TenantSigningKey.tenant_id == actor.tenant_id)
        .order_by(TenantSigningKey.created_at.desc(), TenantSigningKey.id.desc())
    ).all()


def rotate_key(uow: UnitOfWork, actor: Actor, secret: str) -> TenantSigningKey:
    with uow:
        session = uow.session
        now = utcnow()
        for old in session.scalars(
            select(TenantSigningKey)
            .where(
                TenantSigningKey.tenant_id == actor.tenant_id,
                TenantSigningKey.retired_at.is_(None),
            )
            .with_for_update()
        ):
            old.retired_at = now
            audit.record(
                session, actor, "update", "signing_key", old.id, {"retired_at": {"after": str(now)}}
            )
        key = _create(session, actor.tenant_id, secret)
        audit.record(
            session,
            actor,
            "create",
            "signing_key",
            key.id,
            {"public_key": {"after": key.public_key}},
        )
        uow.commit()
        return key


def _create(session: Session, tenant_id: uuid.UUID, secret: str) -> TenantSigningKey:
    key_id = new_id()
    made = keyring.generate(secret, tenant_id, key_id)
    key = TenantSigningKey(
        id=key_id,
        tenant_id=tenant_id,
        algorithm="Ed25519",
        public_key=made.public_key,
        wrapped_private_key=made.wrapped_private_key,
        created_at=utcnow(),
    )
    session.add(key)
    session.flush()  # reports reference it by foreign key in the same transaction
    return key


def rewrap_all(session: Session, old_secret: str, new_secret: str) -> tuple[int, int]:
    """Re-wrap every tenant's private keys from ``old_secret`` to ``new_secret`` (after the
    app secret changed). Keys that already open with the new one are left alone.
    Returns (re-wrapped, already current); :class:`SigningKeyUnavailable` if a key opens
    with neither, and then nothing is changed (the caller does not commit)."""
    rewrapped = current = 0
    for key in session.scalars(select(TenantSigningKey).with_for_update()):
        try:
            keyring.unwrap(new_secret, key.tenant_id, key.id, key.wrapped_private_key)
            current += 1
            continue
        except keyring.KeyUnwrapError:
            pass
        try:
            key.wrapped_private_key = keyring.rewrap(
                old_secret, new_secret, key.tenant_id, key.id, key.wrapped_private_key
            )
        except keyring.KeyUnwrapError:
            raise SigningKeyUnavailable(f"Key {key.id} opens with neither secret") from None
        rewrapped += 1
    return rewrapped, current
