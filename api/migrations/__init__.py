"""Schema migrations (Alembic) and the functions that run them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine

_HERE = Path(__file__).parent


def alembic_config(engine: Engine) -> AlembicConfig:
    config = AlembicConfig(str(_HERE / "alembic.ini"))
    config.set_main_option("script_location", str(_HERE))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Move the schema up to ``revision``; at head, also count the sync scopes' running
    checksums that are missing or were counted under another row-image definition
    (:func:`api.sync.tallies.recount_stale`): data, not schema, so not a migration step."""
    migrate(engine, "upgrade", revision)
    if revision == "head":
        recount_tallies(engine)


def recount_tallies(engine: Engine) -> int:
    """Recount the stale scope tallies of every tenant (one transaction); how many."""
    from sqlalchemy.orm import Session

    import api.models  # noqa: F401 - every model, so row images can be read
    from api.sync.tallies import recount_stale

    with Session(engine) as session:
        counted = recount_stale(session)
        session.commit()
    return counted


def migrate(engine: Engine, direction: Literal["upgrade", "downgrade"], revision: str) -> None:
    """Move the schema to ``revision`` in one transaction."""
    config = alembic_config(engine)
    with migration_connection(engine) as connection:
        config.attributes["connection"] = connection
        getattr(command, direction)(config, revision)


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that a migration may rebuild tables on.

    SQLite changes most constraints by copying a table and dropping the old one; with
    foreign keys enforced, dropping a table that other rows point at fails (or, worse,
    cascades). SQLite only lets enforcement be switched off outside a transaction, so
    it is switched off before ours begins, every reference is checked before it
    commits, and the connection is discarded afterwards rather than pooled without it.
    """
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            yield connection
        return
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                yield connection
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"migration left rows pointing nowhere: {broken[:5]}")
        finally:
            connection.invalidate()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
