"""A real gunicorn with 2 workers: logging out stops the token in every worker.

On PostgreSQL each worker caches live sessions and learns of revocations by
LISTEN/NOTIFY (see ``api.auth.session_cache``); on SQLite every request asks the
database. Either way, once the logout has answered, the token must stop working
everywhere within moments, not after the cache's TTL.
"""

from __future__ import annotations

import time

from tests.support.server import FieldlineServer, TenantSpec


def fresh_get(server: FieldlineServer, token: str) -> int:
    # A new connection each time, so gunicorn's workers take turns accepting them.
    with server.http() as http:
        response = http.get(
            server.url("/v1/me"),
            headers={"Authorization": f"Bearer {token}", "Connection": "close"},
            timeout=10,
        )
    return response.status_code


def test_logging_out_stops_the_token_in_every_worker(fieldline_server: FieldlineServer) -> None:
    server, spec = fieldline_server, TenantSpec()
    with server.http() as http:
        login = http.post(
            server.url("/v1/auth/login"),
            json={"tenant": spec.slug, "email": spec.admin_email, "password": spec.admin_password},
            timeout=30,
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        # Both workers answer (and, on PostgreSQL, remember the session as live).
        assert {fresh_get(server, token) for _ in range(30)} == {200}
        logout = http.post(
            server.url("/v1/auth/logout"), headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert logout.status_code == 204
    deadline = time.monotonic() + 3.0  # the cache's TTL is 5 s: only the notice is this fast
    while time.monotonic() < deadline and {fresh_get(server, token) for _ in range(10)} != {401}:
        time.sleep(0.05)
    assert {fresh_get(server, token) for _ in range(30)} == {401}
