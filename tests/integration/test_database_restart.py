"""When PostgreSQL drops every connection (restart, failover), the API answers
503 with Retry-After once, then carries on with fresh connections."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import Engine

from tests.conftest import PG_ADMIN_URL, backend
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories

pytestmark = pytest.mark.skipif(backend() != "postgresql", reason="terminates PostgreSQL backends")


def test_dropped_connections_give_one_503_then_recover(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    assert api.get("/v1/customers").status_code == 200  # the app's pool now holds a connection
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (engine.url.database,),
        )
    engine.dispose()  # the test's own pool (used for clean-up) lost its connections too
    first = api.get("/v1/customers")
    if first.status_code != 200:  # which pooled connection is hit first is up to the pool
        body = assert_problem(first, 503, "server.database_unavailable")
        assert first.headers["Retry-After"] == "1" and body["trace_id"]
    assert api.get("/v1/customers").status_code == 200
    assert api.get("/v1/customers").status_code == 200
