"""A real gunicorn with 2 workers: the login limit is 10 a minute for the server, not per worker.

Every attempt is a new connection, steered so the two workers take turns
(tests/support/workers.py): left to themselves, gunicorn's workers often let
one of them accept everything, which would hide per-worker counting. With
per-process counts (``memory://``) the first refusal came only at attempt 17
to 21. The server runs with the default storage (the database).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.server import FieldlineServer, TenantSpec
from tests.support.workers import connect_to_worker, worker_pids


@pytest.fixture(scope="module")
def fieldline_server(
    e2e_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FieldlineServer]:
    """The conftest's server (its name attaches the logs to a failure), at the real limit."""
    workdir = tmp_path_factory.mktemp("e2e-login-limit")
    env = {"FIELDLINE_LOGIN_RATE_LIMIT": "10/minute"}
    with FieldlineServer(e2e_database_url, workdir, workers=2, env=env) as server:
        yield server


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]


def attempt_on(server: FieldlineServer, pid: int, pids: set[int], password: str) -> Answer:
    """One login attempt on a new connection that worker ``pid`` accepted."""
    spec = TenantSpec()
    body = {"tenant": spec.slug, "email": spec.admin_email, "password": password}
    connection, _ = connect_to_worker("127.0.0.1", server.port, pid, pids)
    try:
        connection.request(
            "POST",
            "/v1/auth/login",
            body=json.dumps(body),
            headers={"Content-Type": "application/json", "Connection": "close"},
        )
        response = connection.getresponse()
        return Answer(response.status, dict(response.getheaders()), json.loads(response.read()))
    finally:
        connection.close()


def test_the_first_refusal_is_the_eleventh_attempt_while_workers_take_turns(
    fieldline_server: FieldlineServer,
) -> None:
    server = fieldline_server
    pids = worker_pids(server.processes["serve"].pid)
    assert len(pids) == 2, pids
    turns = sorted(pids)
    responses = [attempt_on(server, turns[n % 2], pids, "wrong-password-1") for n in range(1, 16)]
    statuses = [response.status for response in responses]
    assert statuses == [401] * 10 + [429] * 5, statuses
    for refused in responses[10:]:
        assert refused.headers["Content-Type"].startswith("application/problem+json")
        assert refused.body["code"] == "request.rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # The right password waits too, on either worker.
    right = TenantSpec().admin_password
    assert {attempt_on(server, pid, pids, right).status for pid in turns} == {429}
