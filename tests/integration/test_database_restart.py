"""When PostgreSQL drops every connection (restart, failover), the API answers
503 with Retry-After once per pool (reads have their own), then carries on with
fresh connections."""

from __future__ import annotations

import psycopg
import pytest
from flask import Flask
from sqlalchemy import Engine

from tests.conftest import PG_ADMIN_URL, backend
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories

pytestmark = pytest.mark.skipif(backend() != "postgresql", reason="terminates PostgreSQL backends")


def test_dropped_connections_give_one_503_then_recover(
    client: ApiClient, factories: Factories, engine: Engine, app: Flask
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    assert api.get("/v1/customers").status_code == 200  # the app's pool now holds a connection
    created = api.post("/v1/customers", json={"name": "重启前", "tier": "standard"})
    assert created.status_code == 201  # and its write pool one
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
    # Writes run on their own pool, which finds out on its first use.
    first_write = api.post("/v1/customers", json={"name": "重启后", "tier": "standard"})
    if first_write.status_code != 201:
        assert_problem(first_write, 503, "server.database_unavailable")
        first_write = api.post("/v1/customers", json={"name": "重启后", "tier": "standard"})
    assert first_write.status_code == 201
    assert api.post("/v1/customers", json={"name": "再来", "tier": "standard"}).status_code == 201
    # The app is shared by the session's tests: leave it no connection from before.
    app.extensions["fieldline"].uow.dispose()
