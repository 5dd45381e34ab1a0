"""Password hashing with Argon2id (the OWASP recommendation), via argon2-cffi."""

from __future__ import annotations

import os

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

# RFC 9106's low-memory profile by default. The test suite sets
# FIELDLINE_PASSWORD_PROFILE=CHEAPEST: hundreds of users, no attacker.
_PROFILE = os.environ.get("FIELDLINE_PASSWORD_PROFILE", "RFC_9106_LOW_MEMORY")
_hasher = PasswordHasher.from_parameters(getattr(profiles, _PROFILE))
# A real hash to verify against when the user does not exist, so a login for an
# unknown email takes as long as one with a wrong password (no user enumeration).
_DUMMY_HASH = _hasher.hash("fieldline-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
