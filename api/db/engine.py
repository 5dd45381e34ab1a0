"""Engine construction for the two supported databases.

SQLite gets WAL (readers never block the writer), foreign keys, a busy timeout
and explicit ``BEGIN IMMEDIATE`` transactions: the stdlib driver's implicit
transactions break SAVEPOINTs, and deferred transactions that upgrade to a
write lock fail under concurrency instead of waiting. Read-only units of work
(``fieldline_read_only``) begin deferred, so they never wait for the writer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from api.db import notices


def make_engine(url: str, *, pool_size: int = 5, echo: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    # No pre-ping (a round trip per checkout, on every request): connections are
    # recycled every 30 minutes, and after a database restart SQLAlchemy marks the
    # pool invalid on the first disconnect error, which the API answers with a 503
    # and Retry-After (see api.errors.problem).
    engine = create_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800
    )
    # Workers cache live sessions; commits that may end one must tell them all.
    notices.install(engine)
    return engine


def make_read_engine(engine: Engine, *, pool_size: int = 5) -> Engine:
    """The engine that read-only units of work run on.

    On PostgreSQL a pool of its own whose connections are in autocommit from the
    start: under READ COMMITTED every statement takes its own snapshot anyway, so a
    read-only transaction would add two round trips (BEGIN, ROLLBACK), and setting
    autocommit per checkout (an execution option on the write engine) costs a
    third of what checking a connection out costs. On SQLite the same engine, with
    reads beginning deferred (see :func:`make_engine`), so they never wait for the
    writer.
    """
    if engine.dialect.name != "postgresql":
        return shared_read_engine(engine)
    return create_engine(
        engine.url,
        echo=engine.echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        isolation_level="AUTOCOMMIT",
    ).execution_options(fieldline_read_only=True)


def shared_read_engine(engine: Engine) -> Engine:
    """Reads on the write engine's own pool: deferred transactions on SQLite,
    autocommit on PostgreSQL (for tools and tests; the app uses :func:`make_read_engine`)."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(fieldline_read_only=True, isolation_level="AUTOCOMMIT")
    return engine.execution_options(fieldline_read_only=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get("fieldline_read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
