"""Sealing a canonical report with Ed25519, and checking a seal.

The seal signs the report's SHA-256 *as text* in a fixed, labelled message
(``fieldline-report-v1:<key id>:<hex digest>``), so a signature can never be
replayed as a signature of something else, nor moved to another key id. The
verifier needs only the report bytes, the seal and the public key of the key
id it names; retired keys keep verifying what they sealed.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from signatures.canonical import NotCanonical, read_canonical, sha256_hex

ALGORITHM = "Ed25519"
CONTEXT = "fieldline-report-v1"


class Failure(StrEnum):
    """Why a report does not verify (stable; the API reports it)."""

    NOT_CANONICAL = "not_canonical"
    DIGEST_MISMATCH = "digest_mismatch"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    MALFORMED_SEAL = "malformed_seal"


@dataclass(frozen=True)
class Seal:
    key_id: str
    sha256: str  # of the canonical report bytes
    signature: str  # base64 (standard alphabet, padded) of the 64-byte Ed25519 signature
    algorithm: str = ALGORITHM

    def to_json(self) -> dict[str, str]:
        return {
            "algorithm": self.algorithm,
            "key_id": self.key_id,
            "sha256": self.sha256,
            "signature": self.signature,
        }


@dataclass(frozen=True)
class Verdict:
    valid: bool
    failure: Failure | None = None

    def __bool__(self) -> bool:
        return self.valid


def signed_message(key_id: str, digest: str) -> bytes:
    return f"{CONTEXT}:{key_id}:{digest}".encode("ascii")


def seal(report_bytes: bytes, key_id: str, private_key: Ed25519PrivateKey) -> Seal:
    """Seal canonical report bytes (callers build them with ``canonical_bytes``)."""
    digest = sha256_hex(report_bytes)
    signature = private_key.sign(signed_message(key_id, digest))
    return Seal(key_id, digest, base64.b64encode(signature).decode("ascii"))


def verify(
    report_bytes: bytes, seal: Seal, public_key_of: Callable[[str], Ed25519PublicKey | None]
) -> Verdict:
    """Whether ``seal`` is a valid seal of exactly ``report_bytes``; never raises for bad input."""
    if seal.algorithm != ALGORITHM:
        return Verdict(False, Failure.MALFORMED_SEAL)
    try:
        read_canonical(report_bytes)
    except NotCanonical:
        return Verdict(False, Failure.NOT_CANONICAL)
    digest = sha256_hex(report_bytes)
    if digest != seal.sha256:
        return Verdict(False, Failure.DIGEST_MISMATCH)
    try:
        signature = base64.b64decode(seal.signature.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        return Verdict(False, Failure.MALFORMED_SEAL)
    if len(signature) != 64 or base64.b64encode(signature).decode("ascii") != seal.signature:
        return Verdict(False, Failure.MALFORMED_SEAL)  # one signature, one spelling
    public_key = public_key_of(seal.key_id)
    if public_key is None:
        return Verdict(False, Failure.UNKNOWN_KEY)
    try:
        public_key.verify(signature, signed_message(seal.key_id, digest))
    except InvalidSignature:
        return Verdict(False, Failure.BAD_SIGNATURE)
    return Verdict(True)
