"""The unit of work: one transaction per use case, rolled back unless committed.

Services receive a :class:`UnitOfWork`, enter it, do their work through
``uow.session`` and call ``uow.commit()`` once. Leaving the block without a
commit rolls everything back, so an exception anywhere leaves the database
exactly as it was. Views and queries never commit.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from api.db.engine import shared_read_engine


class UnitOfWork:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        read_only: bool = False,
        bind: Connection | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._bind = bind
        self._session: Session | None = None
        self.read_only = read_only

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._session

    def __enter__(self) -> Self:
        if self._bind is None:
            self._session = self._session_factory()
        else:
            self._session = self._session_factory(bind=self._bind)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back whatever was not committed and detaches the objects
        # without expiring them (rollback() would), so views can still read them.
        # On a borrowed connection (``bind``) it ends only the transaction the
        # session began; the connection stays with its owner.
        self.session.close()
        self._session = None

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.session.commit()


class UnitOfWorkFactory:
    """Makes units of work bound to one engine; lives on the Flask app."""

    def __init__(self, engine: Engine, read_engine: Engine | None = None) -> None:
        """``read_engine``: from :func:`api.db.engine.make_read_engine` (the app passes
        one with its own pool); by default :func:`api.db.engine.shared_read_engine`."""
        self.engine = engine
        # expire_on_commit=False: views serialise the returned objects after commit.
        self.session_factory = sessionmaker(engine, expire_on_commit=False)
        self.read_engine = read_engine or shared_read_engine(engine)
        self.read_session_factory = sessionmaker(self.read_engine, expire_on_commit=False)
        self._local = threading.local()
        self._kept: set[Connection] = set()
        self._kept_lock = threading.Lock()

    def dispose(self) -> None:
        """Close every pooled connection of both engines, kept ones included."""
        with self._kept_lock:
            kept, self._kept = self._kept, set()
        for connection in kept:
            connection.close()
        self.engine.dispose()
        self.read_engine.dispose()

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    def reader(self, bind: Connection | None = None) -> UnitOfWork:
        """A unit of work for reads only: on SQLite it takes no write lock, so reads
        never queue behind writers (WAL gives them a consistent snapshot).

        ``bind``: a connection from :meth:`read_connection` to work on instead of
        checking one out (a request reuses one for authentication and its view).
        """
        return UnitOfWork(self.read_session_factory, read_only=True, bind=bind)

    def read_connection(self) -> Connection:
        """A pooled connection with the read-only settings, for Core reads and for
        :meth:`reader`; the caller closes it."""
        return self.read_engine.connect()

    @property
    def keeps_read_connections(self) -> bool:
        """True when reads have a pool of their own (PostgreSQL): then each thread
        keeps one read connection between requests (:meth:`kept_read_connection`)."""
        return self.read_engine.pool is not self.engine.pool

    def kept_read_connection(self) -> Connection:
        """This thread's read connection, checked out once and kept between requests.

        A request thread reads on one connection anyway; checking it out and back in
        on every request cost a twentieth of a cheap read. Autocommit means nothing
        is left open between requests; a connection that broke (a database restart)
        is dropped by :meth:`forget_read_connection` and the next request checks out
        a fresh one. :meth:`dispose` closes them all.
        """
        kept: Connection | None = getattr(self._local, "connection", None)
        if kept is None or kept.closed or kept.invalidated:
            kept = self.read_engine.connect()
            self._local.connection = kept
            with self._kept_lock:
                self._kept.add(kept)
        return kept

    def forget_read_connection(self, connection: Connection) -> None:
        """Give a broken (or suspect) kept connection back; the thread will take another."""
        if getattr(self._local, "connection", None) is connection:
            self._local.connection = None
        with self._kept_lock:
            self._kept.discard(connection)
        connection.close()
