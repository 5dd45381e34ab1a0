"""Revocation reaches every worker's session cache (PostgreSQL LISTEN/NOTIFY).

The app under test caches live sessions for 10 minutes here, so a revoked token
that stops working within seconds proves the notice did it, not the TTL.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest
from flask import Flask
from sqlalchemy import Engine, select, update

from api.app import create_app
from api.auth import tokens
from api.auth.models import AuthSession
from api.auth.revocation_listener import start_listener
from api.auth.session_cache import SessionCache
from api.config import Config
from api.db import UnitOfWorkFactory, utcnow
from api.db.notices import AUTH_CHANNEL
from api.users.models import User
from tests.conftest import PG_ADMIN_URL, backend
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.factories.core import SECRET
from tests.support.server import REPO_ROOT

pytestmark = pytest.mark.skipif(backend() != "postgresql", reason="LISTEN/NOTIFY is PostgreSQL's")

# Revokes a session from another process, through the app's own engine and unit of work.
REVOKE_ELSEWHERE = """
import sys, uuid
from sqlalchemy import update
from api.auth.models import AuthSession
from api.db import UnitOfWorkFactory, make_engine, utcnow
with UnitOfWorkFactory(make_engine(sys.argv[1]))() as uow:
    uow.session.execute(update(AuthSession).where(AuthSession.id == uuid.UUID(sys.argv[2]))
                        .values(revoked_at=utcnow(), revoked_reason="test"))
    uow.commit()
"""


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def cached_app(engine: Engine, config: Config) -> Iterator[tuple[Flask, SessionCache]]:
    app = create_app(config)
    state = app.extensions["fieldline"]
    cache = SessionCache(start_listener(state.uow.engine.url), ttl=600)
    state.session_cache = cache
    yield app, cache
    cache.close()
    state.uow.dispose()


def cached_token(
    factories: Factories, app: Flask, cache: SessionCache
) -> tuple[ApiClient, tokens.AccessClaims]:
    """A token whose live session this app's cache now holds."""
    world = factories.tenant()
    api = ApiClient(app.test_client()).as_(world.admin_token)
    assert api.get("/v1/me").status_code == 200  # starts the listener
    assert wait_until(lambda: cache.online)
    assert api.get("/v1/me").status_code == 200
    claims = tokens.read_access_token(world.admin_token, SECRET)
    assert claims is not None and cache.is_live(claims.session_id, claims.user_id)
    return api, claims


def test_a_session_revoked_in_another_process_stops_working_here(
    cached_app: tuple[Flask, SessionCache], factories: Factories, database_url: str
) -> None:
    app, cache = cached_app
    api, claims = cached_token(factories, app, cache)
    subprocess.run(
        [sys.executable, "-c", REVOKE_ELSEWHERE, database_url, str(claims.session_id)],
        cwd=REPO_ROOT,
        check=True,
        timeout=60,
    )
    assert wait_until(lambda: api.get("/v1/me").status_code == 401, timeout=5.0)
    assert api.get("/v1/me").status_code == 401


def test_a_change_no_notice_announced_is_not_served_once_the_listener_reconnects(
    cached_app: tuple[Flask, SessionCache], factories: Factories, database_url: str
) -> None:
    app, cache = cached_app
    api, claims = cached_token(factories, app, cache)
    before = cache.generation()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'fieldline-revocation-listener' AND datname = %s",
            (psycopg.conninfo.conninfo_to_dict(database_url)["dbname"],),
        )
    # While the listener is away, a revocation it will never hear of (psql, say).
    with psycopg.connect(database_url, autocommit=True) as raw:
        raw.execute(
            "UPDATE auth_sessions SET revoked_at = now() WHERE id = %s", (claims.session_id,)
        )
    assert wait_until(lambda: cache.generation() not in (None, before))  # back, and cleared
    assert api.get("/v1/me").status_code == 401


def test_only_committed_changes_to_sessions_users_or_tenants_send_a_notice(
    factories: Factories, uow_factory: UnitOfWorkFactory, database_url: str
) -> None:
    world = factories.tenant()
    with uow_factory.engine.connect() as connection:
        session_id = connection.execute(select(AuthSession.id)).scalars().first()
    revoke = update(AuthSession).where(AuthSession.id == session_id).values(revoked_at=utcnow())
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute(f"LISTEN {AUTH_CHANNEL}")
        listener.execute("LISTEN test_sentinel")

        def notices() -> list[str]:
            """The notices sent so far: everything up to a sentinel sent now (delivery
            follows commit order, so nothing committed earlier can arrive after it)."""
            with psycopg.connect(database_url, autocommit=True) as other:
                other.execute("NOTIFY test_sentinel")
            seen = []
            for notice in listener.notifies(timeout=10):
                if notice.channel == "test_sentinel":
                    return seen
                seen.append(notice.channel)
            raise AssertionError(f"no sentinel; saw {seen}")

        with uow_factory() as uow:
            uow.session.execute(revoke)  # rolled back: never happened
        with uow_factory() as uow:
            uow.session.execute(select(User).where(User.tenant_id == world.tenant_id)).all()
            uow.commit()
        assert notices() == []
        with uow_factory() as uow:
            uow.session.execute(revoke)
            uow.commit()
        assert notices() == [AUTH_CHANNEL]


def test_a_revoked_session_is_refused_at_once_by_the_process_that_revoked_it(
    cached_app: tuple[Flask, SessionCache], factories: Factories
) -> None:
    app, cache = cached_app
    api, claims = cached_token(factories, app, cache)
    assert api.post("/v1/auth/logout").status_code == 204
    assert api.get("/v1/me").status_code == 401  # no waiting for the notice's round trip
    assert not cache.is_live(claims.session_id, claims.user_id)
