"""Tenant signing keys: Ed25519 pairs whose private half is stored encrypted.

The private key is wrapped with AES-256-GCM under a key-encryption key derived
from the application secret (``FIELDLINE_SECRET_KEY``) by HKDF-SHA256, with the
tenant id as salt and a fixed label as info; the key id is the GCM associated
data, so a wrapped key copied to another row or tenant does not unwrap. The
database alone (a backup, a read replica) therefore never reveals a private key.
Rotating the application secret means re-wrapping every key (a new KEK), which
:func:`rewrap` does for one key.
"""

from __future__ import annotations

import base64
import os
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"fieldline tenant signing key wrap v1"
_NONCE = 12


class KeyUnwrapError(ValueError):
    """The wrapped key does not open with this secret, tenant and key id."""


@dataclass(frozen=True)
class NewKey:
    public_key: str  # base64 of the 32 raw bytes
    wrapped_private_key: str  # base64 of nonce || AES-GCM ciphertext


def generate(secret: str, tenant_id: uuid.UUID, key_id: uuid.UUID) -> NewKey:
    private = Ed25519PrivateKey.generate()
    return NewKey(public_key_text(private.public_key()), wrap(secret, tenant_id, key_id, private))


def public_key_text(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def load_public(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text))


def wrap(secret: str, tenant_id: uuid.UUID, key_id: uuid.UUID, key: Ed25519PrivateKey) -> str:
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return wrap_bytes(secret, tenant_id, key_id, raw)


def unwrap(secret: str, tenant_id: uuid.UUID, key_id: uuid.UUID, wrapped: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(unwrap_bytes(secret, tenant_id, key_id, wrapped))


def wrap_bytes(
    secret: str, tenant_id: uuid.UUID, key_id: uuid.UUID, raw: bytes, *, info: bytes = _INFO
) -> str:
    """Wrap any private key's raw bytes; another ``info`` label derives another KEK, so
    keys kept for different purposes (signing, Web Push VAPID) never share one."""
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(_kek(secret, tenant_id, info)).encrypt(nonce, raw, key_id.bytes)
    return base64.b64encode(nonce + sealed).decode("ascii")


def unwrap_bytes(
    secret: str, tenant_id: uuid.UUID, key_id: uuid.UUID, wrapped: str, *, info: bytes = _INFO
) -> bytes:
    data = base64.b64decode(wrapped)
    try:
        return AESGCM(_kek(secret, tenant_id, info)).decrypt(
            data[:_NONCE], data[_NONCE:], key_id.bytes
        )
    except InvalidTag:
        raise KeyUnwrapError("The key does not open with this secret") from None


def rewrap(
    old_secret: str, new_secret: str, tenant_id: uuid.UUID, key_id: uuid.UUID, wrapped: str
) -> str:
    return wrap(new_secret, tenant_id, key_id, unwrap(old_secret, tenant_id, key_id, wrapped))


def _kek(secret: str, tenant_id: uuid.UUID, info: bytes) -> bytes:
    derive = HKDF(algorithm=hashes.SHA256(), length=32, salt=tenant_id.bytes, info=info)
    return derive.derive(secret.encode("utf-8"))
