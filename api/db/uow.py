"""The unit of work: one transaction per use case, rolled back unless committed.

Services receive a :class:`UnitOfWork`, enter it, do their work through
``uow.session`` and call ``uow.commit()`` once. Leaving the block without a
commit rolls everything back, so an exception anywhere leaves the database
exactly as it was. Views and queries never commit.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker


class UnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session], *, read_only: bool = False) -> None:
        self._session_factory = session_factory
        self._session: Session | None = None
        self.read_only = read_only

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._session

    def __enter__(self) -> Self:
        self._session = self._session_factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back whatever was not committed and detaches the objects
        # without expiring them (rollback() would), so views can still read them.
        self.session.close()
        self._session = None

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.session.commit()


class UnitOfWorkFactory:
    """Makes units of work bound to one engine; lives on the Flask app."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # expire_on_commit=False: views serialise the returned objects after commit.
        self.session_factory = sessionmaker(engine, expire_on_commit=False)
        read_options: dict[str, object] = {"fieldline_read_only": True}
        if engine.dialect.name == "postgresql":
            # Under READ COMMITTED every statement takes its own snapshot anyway, so
            # a read-only transaction adds nothing but two round trips (BEGIN, ROLLBACK).
            read_options["isolation_level"] = "AUTOCOMMIT"
        self.read_session_factory = sessionmaker(
            engine.execution_options(**read_options), expire_on_commit=False
        )

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    def reader(self) -> UnitOfWork:
        """A unit of work for reads only: on SQLite it takes no write lock, so reads
        never queue behind writers (WAL gives them a consistent snapshot)."""
        return UnitOfWork(self.read_session_factory, read_only=True)
