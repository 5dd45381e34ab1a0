"""The login limit counts across workers: every app on one store shares its counts.

Each ``create_app`` here stands for one gunicorn worker (or one host): its own
engine and connection pool on the same database, as in production, counting in
the database (the default) or in one Redis. The real 2-worker server is in
tests/e2e/test_login_limit_across_workers.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import Engine, select
from werkzeug.test import TestResponse

from api.app import create_app
from api.config import Config
from api.http.ratelimit import storage_for
from api.ratelimits.models import RateLimitCounter
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.redis_server import running_redis_server


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with running_redis_server() as url:
        yield url


@pytest.fixture(params=["database", "redis"])
def workers(request: pytest.FixtureRequest, config: Config) -> Iterator[list[ApiClient]]:
    """Two apps at the production limit (10 a minute), counting in the database or Redis."""
    storage = "database" if request.param == "database" else request.getfixturevalue("redis_url")
    settings = {
        **config.__dict__,
        "login_rate_limit": "10/minute",
        "ratelimit_storage_uri": storage,
        "session_cache_seconds": 0,
    }
    apps: list[Flask] = [create_app(Config(**settings)) for _ in range(2)]
    if request.param == "redis":
        storage_for(storage, apps[0].extensions["fieldline"].uow.engine).reset()
    try:
        yield [ApiClient(app.test_client()) for app in apps]
    finally:
        for app in apps:
            app.extensions["fieldline"].uow.dispose()


def attempt(client: ApiClient, slug: str, email: str, address: str = "203.0.113.7") -> TestResponse:
    return client.post(
        "/v1/auth/login",
        json={"tenant": slug, "email": email, "password": "wrong-password-1"},
        environ_base={"REMOTE_ADDR": address},
    )


def test_the_eleventh_attempt_on_an_account_is_refused_whichever_worker_takes_it(
    workers: list[ApiClient], factories: Factories
) -> None:
    world = factories.tenant()
    for number in range(1, 11):
        # A new address each time: only the account's count can refuse.
        response = attempt(workers[number % 2], world.slug, world.admin.email, f"10.0.0.{number}")
        assert_problem(response, 401, "auth.invalid_credentials")
    for client in workers:
        blocked = attempt(client, world.slug, world.admin.email, "10.0.0.99")
        assert_problem(blocked, 429, "request.rate_limited")
        assert 1 <= int(blocked.headers["Retry-After"]) <= 60


def test_the_eleventh_attempt_from_an_address_is_refused_whichever_worker_takes_it(
    workers: list[ApiClient], factories: Factories
) -> None:
    world = factories.tenant()
    for number in range(1, 11):
        # A new account each time: only the address's count can refuse.
        response = attempt(workers[number % 2], world.slug, f"guess{number}@example.com")
        assert_problem(response, 401, "auth.invalid_credentials")
    assert_problem(
        attempt(workers[1], world.slug, "guess11@example.com"), 429, "request.rate_limited"
    )
    # Another address is counted on its own.
    other = attempt(workers[0], world.slug, "guess12@example.com", "198.51.100.4")
    assert_problem(other, 401, "auth.invalid_credentials")


def test_counters_in_the_database_keep_no_email_or_address(
    config: Config, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    app = create_app(Config(**{**config.__dict__, "session_cache_seconds": 0}))
    try:
        attempt(ApiClient(app.test_client()), world.slug, world.admin.email)
    finally:
        app.extensions["fieldline"].uow.dispose()
    with engine.connect() as connection:
        keys = connection.execute(select(RateLimitCounter.key)).scalars().all()
    assert len(keys) == 2  # one for the account, one for the address
    assert not any(world.admin.email in key or "203.0.113.7" in key for key in keys)
