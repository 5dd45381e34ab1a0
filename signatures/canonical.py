"""Canonical JSON (RFC 8785, JCS) for the completion report: one byte form, one hash.

A report is sealed over exactly these bytes, so anyone can check it with any
JCS implementation: parse the JSON, canonicalise it again, compare, hash.
:func:`read_canonical` refuses bytes that are not already canonical (extra
spaces, reordered keys, ``1.0`` for ``1``), so a report that *means* the same
but is spelled differently does not verify: a verifier never has to guess.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import rfc8785


class NotCanonical(ValueError):
    """The bytes are not JSON, or not the RFC 8785 form of what they contain."""


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 bytes of ``value`` (``ValueError`` for NaN, infinities, unsafe integers)."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as error:
        raise ValueError(str(error)) from None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_canonical(data: bytes) -> Any:
    """The value these canonical bytes encode; :class:`NotCanonical` otherwise."""
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_refuse, parse_int=_number)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise NotCanonical(f"Not JSON: {str(error)[:100]}") from None
    try:
        again = canonical_bytes(value)
    except ValueError as error:
        raise NotCanonical(str(error)) from None
    if again != data:
        raise NotCanonical("Not in RFC 8785 canonical form")
    return value


def _number(text: str) -> int | float:
    """JSON numbers are IEEE doubles in RFC 8785: a big whole number is a float."""
    value = int(text)
    return value if abs(value) <= _SAFE else float(value)


_SAFE = 2**53 - 1


def _refuse(name: str) -> object:
    raise ValueError(f"{name} is not JSON")
