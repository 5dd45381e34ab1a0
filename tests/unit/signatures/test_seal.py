"""Sealing and verifying canonical reports: any changed byte of the report or of the
signature fails; retired keys keep verifying; wrapped private keys open only with the
secret, tenant and key id they were wrapped for."""

from __future__ import annotations

import base64
import json
import math
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from signatures import keyring
from signatures.canonical import NotCanonical, canonical_bytes, read_canonical
from signatures.seal import Failure, Seal, seal, verify

KEY = Ed25519PrivateKey.generate()
KEY_ID = "01958e00-0000-7000-8000-00000000000a"
SAMPLE: dict[str, Any] = {
    "format": "fieldline.completion-report/1",
    "work_order": {"number": "WO-000042", "title": "锅炉漏水", "status": "completed"},
    "evidence": {"parts": [{"description": "Valve seal", "quantity": "2", "sha256": "ab" * 32}]},
    "sign_off": {"signer": {"name": "王芳"}, "signature_sha256": "cd" * 32, "gps_fix": None},
    "site": {"lat": 31.2304, "lon": 121.4737},
}


def _keys(key_id: str) -> Ed25519PublicKey | None:
    return KEY.public_key() if key_id == KEY_ID else None


def test_flipping_any_byte_of_the_report_fails_verification() -> None:
    report = canonical_bytes(SAMPLE)
    sealed = seal(report, KEY_ID, KEY)
    assert verify(report, sealed, _keys).valid
    for i in range(len(report)):
        for flip in (0x01, 0x80):
            tampered = report[:i] + bytes([report[i] ^ flip]) + report[i + 1 :]
            verdict = verify(tampered, sealed, _keys)
            assert not verdict.valid, (i, flip)
            assert verdict.failure in (Failure.NOT_CANONICAL, Failure.DIGEST_MISMATCH)


def test_flipping_any_byte_of_the_signature_fails_verification() -> None:
    report = canonical_bytes(SAMPLE)
    sealed = seal(report, KEY_ID, KEY)
    raw = base64.b64decode(sealed.signature)
    for i in range(len(raw)):
        for flip in (0x01, 0x80):
            bad = raw[:i] + bytes([raw[i] ^ flip]) + raw[i + 1 :]
            forged = Seal(KEY_ID, sealed.sha256, base64.b64encode(bad).decode())
            assert verify(report, forged, _keys).failure is Failure.BAD_SIGNATURE, i
    text = sealed.signature
    for i in range(len(text)):  # and every character of its text form
        swapped = "A" if text[i] != "A" else "B"
        forged = Seal(KEY_ID, sealed.sha256, text[:i] + swapped + text[i + 1 :])
        assert not verify(report, forged, _keys).valid, i


def test_a_seal_does_not_move_to_another_key_id_or_hash() -> None:
    report = canonical_bytes(SAMPLE)
    sealed = seal(report, KEY_ID, KEY)
    other_id = "01958e00-0000-7000-8000-00000000000b"
    assert verify(report, Seal(other_id, sealed.sha256, sealed.signature), _keys).failure is (
        Failure.UNKNOWN_KEY
    )
    moved = Seal(other_id, sealed.sha256, sealed.signature)
    assert not verify(report, moved, lambda _: KEY.public_key()).valid
    assert verify(report, Seal(KEY_ID, "0" * 64, sealed.signature), _keys).failure is (
        Failure.DIGEST_MISMATCH
    )


def test_the_same_meaning_spelled_differently_does_not_verify() -> None:
    report = canonical_bytes(SAMPLE)
    sealed = seal(report, KEY_ID, KEY)
    pretty = json.dumps(SAMPLE, indent=2, ensure_ascii=False).encode()
    assert verify(pretty, sealed, _keys).failure is Failure.NOT_CANONICAL
    with pytest.raises(NotCanonical):
        read_canonical(b'{"a":1.0}')


def test_retired_keys_still_verify_what_they_sealed() -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    ring = {"old": old.public_key(), "new": new.public_key()}
    first = canonical_bytes({"n": 1})
    second = canonical_bytes({"n": 2})
    old_seal, new_seal = seal(first, "old", old), seal(second, "new", new)
    assert verify(first, old_seal, ring.get).valid and verify(second, new_seal, ring.get).valid


def test_wrapped_private_keys_open_only_for_their_secret_tenant_and_key_id() -> None:
    tenant, key_id = uuid.uuid4(), uuid.uuid4()
    made = keyring.generate("app secret", tenant, key_id)
    private = keyring.unwrap("app secret", tenant, key_id, made.wrapped_private_key)
    assert keyring.public_key_text(private.public_key()) == made.public_key
    assert "app secret" not in made.wrapped_private_key
    for secret, t, k in (
        ("other secret", tenant, key_id),
        ("app secret", uuid.uuid4(), key_id),
        ("app secret", tenant, uuid.uuid4()),
    ):
        with pytest.raises(keyring.KeyUnwrapError):
            keyring.unwrap(secret, t, k, made.wrapped_private_key)
    rewrapped = keyring.rewrap("app secret", "new secret", tenant, key_id, made.wrapped_private_key)
    again = keyring.unwrap("new secret", tenant, key_id, rewrapped)
    assert keyring.public_key_text(again.public_key()) == made.public_key


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_canonical_json_round_trips_and_is_a_fixed_point(value: Any) -> None:
    data = canonical_bytes(value)
    back = read_canonical(data)
    assert canonical_bytes(back) == data
    assert _same(back, value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(a == b)
