"""The HTTP client: rotating refresh tokens, one retry after a 401, typed problem errors."""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
import pytest

from client_sdk.errors import (
    AuthError,
    ConflictError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ResetRequiredError,
    ServerError,
    ValidationError,
)
from client_sdk.http import FieldlineClient, MemoryTokenStore
from sync_protocol.records import ResetRequired
from tests.unit.client_sdk.fake_server import EMAIL, PASSWORD, TENANT, FakeServer


def _client(server: FakeServer) -> FieldlineClient:
    client = FieldlineClient("http://fieldline.test", transport=server.transport())
    client.login(TENANT, EMAIL, PASSWORD, "device-1")
    return client


def test_an_expired_access_token_is_refreshed_once_and_the_rotated_token_is_kept(
    server: FakeServer,
) -> None:
    client = _client(server)
    server.access_token = "expired-on-the-server"  # the stored access token stops working
    first_refresh = client.tokens.load()
    assert first_refresh is not None

    me = client.me()

    assert me["technician_id"] == str(server.technician_id)
    stored = client.tokens.load()
    assert stored is not None and stored.refresh_token == server.refresh_token
    assert stored.refresh_token != first_refresh.refresh_token
    assert [p for _, p in server.calls].count("/v1/auth/refresh") == 1
    # The next expiry uses the new refresh token; the old one would revoke the session.
    server.access_token = "expired-again"
    client.me()
    assert not server.revoked


def test_a_refused_refresh_surfaces_as_an_auth_error(server: FakeServer) -> None:
    client = _client(server)
    server.revoked = True
    with pytest.raises(AuthError) as refused:
        client.me()
    assert refused.value.code == "auth.invalid_refresh_token"
    assert refused.value.status == 401


def test_two_clients_sharing_tokens_do_not_refresh_twice(server: FakeServer) -> None:
    tokens = MemoryTokenStore()
    a = FieldlineClient("http://f.test", transport=server.transport(), tokens=tokens)
    a.login(TENANT, EMAIL, PASSWORD, "d")
    stale = tokens.load()
    server.access_token = "expired"
    a.me()  # refreshes
    assert stale is not None
    a._refresh_after(stale)  # a second caller that saw the same 401: nothing to do
    assert [p for _, p in server.calls].count("/v1/auth/refresh") == 1


def _answer(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> FieldlineClient:
    def handler(request: httpx.Request) -> httpx.Response:
        all_headers = {"Content-Type": "application/problem+json", **(headers or {})}
        return httpx.Response(status, content=json.dumps(body).encode(), headers=all_headers)

    return FieldlineClient("http://f.test", transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (403, AuthError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, ValidationError),
        (413, ValidationError),
        (503, ServerError),
    ],
)
def test_problem_responses_become_typed_errors_with_code_status_and_body(
    status: int, kind: type[Exception]
) -> None:
    body = {
        "type": "about:blank",
        "title": "Nope",
        "status": status,
        "detail": "why",
        "code": "x.y",
        "errors": [{"field": "title", "code": "required", "message": "m"}],
    }
    with pytest.raises(kind) as raised:
        _answer(status, body).request("GET", "/v1/anything", auth=False)
    error = raised.value
    assert (error.code, error.status, error.detail) == ("x.y", status, "why")  # type: ignore[attr-defined]
    assert error.problem == body  # type: ignore[attr-defined]
    assert error.errors[0].field == "title"  # type: ignore[attr-defined]


def test_seq_gap_carries_expected_seq() -> None:
    body = {"code": "sync.seq_gap", "status": 409, "detail": "Expected 10", "expected_seq": 10}
    with pytest.raises(ConflictError) as raised:
        _answer(409, body).request("POST", "/v1/sync/push", auth=False)
    assert raised.value.expected_seq == 10


def test_rate_limits_say_how_long_to_wait() -> None:
    body = {"code": "http.rate_limited", "status": 429}
    with pytest.raises(RateLimitedError) as raised:
        _answer(429, body, {"Retry-After": "7"}).request("GET", "/x", auth=False)
    assert raised.value.retry_after == 7.0 and raised.value.retryable


def test_reset_required_is_its_own_error_with_the_parsed_body() -> None:
    reset = ResetRequired("sync.schema_too_old", "old", True, 2)
    with pytest.raises(ResetRequiredError) as raised:
        _answer(409, reset.to_json()).request("POST", "/v1/sync/pull", auth=False)
    assert raised.value.reset == reset


def test_a_dropped_connection_is_a_retryable_network_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route to host", request=request)

    client = FieldlineClient("http://f.test", transport=httpx.MockTransport(handler))
    with pytest.raises(NetworkError) as raised:
        client.request("GET", "/v1/me", auth=False)
    assert raised.value.retryable


def test_asks_for_gzip_and_reads_gzipped_answers() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Accept-Encoding", ""))
        data = gzip.compress(json.dumps({"technician_id": None}).encode())
        return httpx.Response(
            200,
            content=data,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )

    client = FieldlineClient("http://f.test", transport=httpx.MockTransport(handler))
    assert client.request("GET", "/v1/me", auth=False).json() == {"technician_id": None}
    assert seen == ["gzip"]
