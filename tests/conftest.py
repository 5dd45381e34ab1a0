"""Shared fixtures: a migrated database per test worker, a clean slate per test.

``FIELDLINE_TEST_DB`` picks the backend: ``sqlite`` (default) or
``postgresql`` (a throwaway database on 127.0.0.1:5432, one per xdist worker,
dropped at the end). Schemas come from the real migrations, never
``create_all``, so every run also proves the migrations.
"""

from __future__ import annotations

import os

# Before any api import: argon2's cheapest profile keeps hundreds of test users fast.
os.environ.setdefault("FIELDLINE_PASSWORD_PROFILE", "CHEAPEST")

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import settings
from sqlalchemy import Engine, text

from api.app import create_app
from api.config import Config
from api.db import UnitOfWorkFactory, make_engine
from api.migrations import upgrade
from api.models import Base
from tests.support.api_client import ApiClient
from tests.support.factories import Factories

pytest_plugins = ["tests.support.migration_db"]  # own_engine, for tests that migrate down and up

# CI replays the same examples every run, so a release is never blocked by a case
# nobody has seen; developers' runs explore new ones, and hypothesis keeps every
# failure it finds in .hypothesis/ until it passes.
# No deadlines: speed is measured in benchmarks/, and a busy 2-core CI machine made
# hypothesis' 200 ms deadline fail examples that were merely slow.
settings.register_profile("local", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "local")

PG_ADMIN_URL = os.environ.get(
    "FIELDLINE_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def backend() -> str:
    return os.environ.get("FIELDLINE_TEST_DB", "sqlite")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    if backend() == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'fieldline.db'}"
        return
    from tests.support.postgres import create_database, drop_database

    name = f"fieldline_test_{worker_id}_{uuid.uuid4().hex[:8]}"
    url = create_database(PG_ADMIN_URL, name)
    yield url
    drop_database(PG_ADMIN_URL, name)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def config(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Config:
    return Config(
        data_dir=Path(tmp_path_factory.mktemp("data")),
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        login_rate_limit="1000/minute",
        embedded_worker=False,
        push_allow_http_loopback=True,  # the tests' push service is a local http server
    )


@pytest.fixture(scope="session")
def app(engine: Engine, config: Config) -> Iterator[Flask]:
    app = create_app(config)
    yield app
    fieldline = app.extensions["fieldline"]
    if fieldline.session_cache is not None:  # before its database is dropped
        fieldline.session_cache.close()
    fieldline.uow.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts from empty tables (only tests that touch the database pay)."""
    yield
    if "engine" not in request.fixturenames:
        return
    engine: Engine = request.getfixturevalue("engine")
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            # SQLite checks RESTRICT per row, so a tree (categories) is unhooked first.
            parents = {
                fk.parent.name: None for fk in table.foreign_keys if fk.column.table is table
            }
            if parents:
                connection.execute(table.update().values(parents))
            connection.execute(table.delete())


@pytest.fixture
def uow_factory(engine: Engine) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(engine)


@pytest.fixture
def factories(uow_factory: UnitOfWorkFactory) -> Factories:
    return Factories(uow_factory)


@pytest.fixture
def client(app: Flask) -> ApiClient:
    return ApiClient(app.test_client())


def count_rows(engine: Engine) -> dict[str, int]:
    """Row count per table: tests compare it before and after a rejected request."""
    with engine.connect() as connection:
        return {
            table.name: connection.execute(text(f"SELECT COUNT(*) FROM {table.name}")).scalar_one()
            for table in Base.metadata.sorted_tables
        }
