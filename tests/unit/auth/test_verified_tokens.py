"""Access tokens verified once per process: a remembered token is still checked."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import jwt

from api.auth import tokens
from api.auth.permissions import Role

SECRET = "unit-test-secret-unit-test-secret-456"
CLAIMS = tokens.AccessClaims(
    user_id=uuid.uuid4(),
    tenant_id=uuid.uuid4(),
    session_id=uuid.uuid4(),
    role=Role.DISPATCHER,
    technician_id=None,
    customer_id=None,
)


def test_a_remembered_token_stops_verifying_when_it_expires() -> None:
    token, _ = tokens.mint_access_token(CLAIMS, SECRET, timedelta(seconds=1))
    assert tokens.read_access_token(token, SECRET) == CLAIMS  # verified and remembered
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, expires - time.time()) + 0.01)  # at most a second
    assert tokens.read_access_token(token, SECRET) is None


def test_a_token_remembered_under_one_secret_does_not_verify_under_another() -> None:
    token, _ = tokens.mint_access_token(CLAIMS, SECRET, timedelta(minutes=5))
    assert tokens.read_access_token(token, SECRET) == CLAIMS
    assert tokens.read_access_token(token, "another-secret-another-secret-7890") is None
