"""Token minting and checking: signed access tokens, opaque refresh tokens and API keys.

Access tokens are short-lived HS256 JWTs naming the session, so revoking the
session makes them useless at once. Refresh tokens and API keys are random
strings; only their SHA-256 digests are stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from api.auth.permissions import Role
from api.db import utcnow

API_KEY_PREFIX = "flk_"
_ALGORITHM = "HS256"


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    session_id: uuid.UUID
    role: Role
    technician_id: uuid.UUID | None
    customer_id: uuid.UUID | None


def mint_access_token(claims: AccessClaims, secret: str, ttl: timedelta) -> tuple[str, datetime]:
    now = utcnow()
    expires = now + ttl
    payload = {
        "sub": str(claims.user_id),
        "tid": str(claims.tenant_id),
        "sid": str(claims.session_id),
        "role": claims.role.value,
        "tech": str(claims.technician_id) if claims.technician_id else None,
        "cust": str(claims.customer_id) if claims.customer_id else None,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "typ": "access",
    }
    return jwt.encode(payload, secret, algorithm=_ALGORITHM), expires


# Tokens already verified in this process: ``(token, secret) -> (claims, exp)``.
# A client sends the same access token with every request for its lifetime, and
# checking the signature and parsing the claims again each time (PyJWT: ~0.1 ms)
# was a tenth of a single read. A hit is exactly as trustworthy as the first check:
# the same bytes under the same secret; the expiry is still checked on every use.
# Revocation is not this cache's business: the session check follows every decode.
_VERIFIED: dict[tuple[str, str], tuple[AccessClaims, int]] = {}
_VERIFIED_MAX = 4096


def read_access_token(token: str, secret: str) -> AccessClaims | None:
    """The token's claims, or None if it is forged, expired or malformed."""
    known = _VERIFIED.get((token, secret))
    if known is not None and time.time() < known[1]:
        return known[0]
    claims, expires = _decode_access_token(token, secret)
    if claims is not None:
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()  # crude, but a full cache only costs decodes
        _VERIFIED[(token, secret)] = (claims, expires)
    return claims


def _decode_access_token(token: str, secret: str) -> tuple[AccessClaims | None, int]:
    try:
        payload = jwt.decode(
            token, secret, algorithms=[_ALGORITHM], options={"require": ["exp", "sub", "sid"]}
        )
        if payload.get("typ") != "access":
            return None, 0
        claims = AccessClaims(
            user_id=uuid.UUID(payload["sub"]),
            tenant_id=uuid.UUID(payload["tid"]),
            session_id=uuid.UUID(payload["sid"]),
            role=Role(payload["role"]),
            technician_id=uuid.UUID(payload["tech"]) if payload.get("tech") else None,
            customer_id=uuid.UUID(payload["cust"]) if payload.get("cust") else None,
        )
        return claims, int(payload["exp"])
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        return None, 0


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def successor_secret(refresh_secret: str, key: str) -> str:
    """The refresh token that replaces ``refresh_secret`` when it is spent.

    Derived (HMAC under the server's key) rather than random, so renewing the same
    token twice within the grace period hands out the same successor without the
    server ever storing a secret; without the key it is as unguessable as a random one.
    """
    mac = hmac.new(key.encode(), b"refresh-successor:" + refresh_secret.encode(), "sha256")
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(secret: str, stored: str) -> bool:
    return hmac.compare_digest(digest(secret), stored)


def format_api_key(key_id: uuid.UUID, secret: str) -> str:
    return f"{API_KEY_PREFIX}{key_id.hex}_{secret}"


def parse_api_key(token: str) -> tuple[uuid.UUID, str] | None:
    if not token.startswith(API_KEY_PREFIX):
        return None
    key_part, _, secret = token[len(API_KEY_PREFIX) :].partition("_")
    try:
        return uuid.UUID(hex=key_part), secret
    except ValueError:
        return None
