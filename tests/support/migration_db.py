"""A database of a test's own, for tests that migrate down and up again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from api.db import make_engine
from tests.conftest import PG_ADMIN_URL, backend


@pytest.fixture
def own_engine(tmp_path: Path) -> Iterator[Engine]:
    """An empty database on the backend under test, dropped afterwards."""
    if backend() == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
        yield engine
        engine.dispose()
        return
    from tests.support.postgres import create_database, drop_database

    name = f"fieldline_migration_{uuid.uuid4().hex[:8]}"
    engine = make_engine(create_database(PG_ADMIN_URL, name))
    yield engine
    engine.dispose()
    drop_database(PG_ADMIN_URL, name)
