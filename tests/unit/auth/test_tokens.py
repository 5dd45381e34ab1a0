"""Access tokens and API keys: what verifies and what does not."""

from __future__ import annotations

import uuid
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from api.auth import tokens
from api.auth.permissions import Role

SECRET = "unit-test-secret-unit-test-secret-123"
CLAIMS = tokens.AccessClaims(
    user_id=uuid.uuid4(),
    tenant_id=uuid.uuid4(),
    session_id=uuid.uuid4(),
    role=Role.TECHNICIAN,
    technician_id=uuid.uuid4(),
    customer_id=None,
)


def test_an_access_token_round_trips_its_claims() -> None:
    token, _ = tokens.mint_access_token(CLAIMS, SECRET, timedelta(minutes=5))
    assert tokens.read_access_token(token, SECRET) == CLAIMS


def test_expired_or_foreign_tokens_do_not_verify() -> None:
    expired, _ = tokens.mint_access_token(CLAIMS, SECRET, timedelta(seconds=-5))
    foreign, _ = tokens.mint_access_token(
        CLAIMS, "another-secret-another-secret-1234", timedelta(minutes=5)
    )
    assert tokens.read_access_token(expired, SECRET) is None
    assert tokens.read_access_token(foreign, SECRET) is None


@given(st.text(max_size=300))
def test_no_string_crashes_the_token_readers(raw: str) -> None:
    assert tokens.read_access_token(raw, SECRET) is None or raw.count(".") == 2
    parsed = tokens.parse_api_key(raw)
    assert parsed is None or raw.startswith(tokens.API_KEY_PREFIX)


def test_an_api_key_round_trips_and_only_its_own_secret_matches() -> None:
    key_id = uuid.uuid4()
    secret = tokens.new_secret()
    assert tokens.parse_api_key(tokens.format_api_key(key_id, secret)) == (key_id, secret)
    assert tokens.same_digest(secret, tokens.digest(secret))
    assert not tokens.same_digest(secret + "x", tokens.digest(secret))
