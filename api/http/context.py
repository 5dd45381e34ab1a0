"""What a view needs from the app: units of work, the request's read connection, settings.

A request reads through one connection (:func:`read_connection`):
authentication looks the caller's session up on it and :func:`read_uow` binds
the view's read-only unit of work to it. On PostgreSQL reads have a pool of
their own in autocommit and each request thread keeps its read connection
between requests (no checkout per request); on SQLite, where reads and writes
share one pool, it is checked out on first use and returned when the request
ends (:func:`release_read_connection`). Each unit of work still runs its own
transaction on it (a view never sees a snapshot older than its own start).
Writes use their own connection and transaction (:func:`new_uow`); on SQLite
they hand the read connection back first if it is idle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, g
from sqlalchemy import Connection

from api.auth.services import AuthSettings
from api.auth.session_cache import SessionCache
from api.db import UnitOfWork, UnitOfWorkFactory
from api.sync.quiet_rows import QuietRows
from media.blobs import BlobStore

_READ_CONNECTION = "fieldline_read_connection"


@dataclass
class FieldlineState:
    """Stored at ``app.extensions["fieldline"]``."""

    uow: UnitOfWorkFactory
    auth_settings: AuthSettings
    config: Any
    # Where photo bytes live (Config.open_blob_store): every feature uses this one store.
    blobs: BlobStore
    # Live sessions seen lately (PostgreSQL only; see api.auth.session_cache).
    session_cache: SessionCache | None = None
    # The quiet pull's rows read lately (with the session cache; see api.sync.quiet_rows).
    quiet_rows: QuietRows | None = None


def state() -> FieldlineState:
    return current_app.extensions["fieldline"]  # type: ignore[no-any-return]


def blob_store() -> BlobStore:
    """The app's blob store (filesystem or S3, chosen once by the configuration)."""
    return state().blobs


def new_uow() -> UnitOfWork:
    """A unit of work for a service that writes.

    The request's read connection goes back to the pool first when nothing is
    reading on it (authentication is done with it by now), so a write request does
    not hold one pooled connection while it waits for another: with a small pool
    and busy threads that hold-and-wait would time out.
    """
    uow = state().uow
    connection: Connection | None = g.get(_READ_CONNECTION)
    # One pool for both (SQLite): do not hold one connection while waiting for another.
    shared_pool = not uow.keeps_read_connections
    if shared_pool and connection is not None and not connection.in_transaction():
        release_read_connection()
    return uow()


def read_uow() -> UnitOfWork:
    """A unit of work for a view that only reads (never commits)."""
    return state().uow.reader(bind=read_connection())


def read_connection() -> Connection:
    """The request's read-only connection: the thread's kept one when reads have a
    pool of their own (PostgreSQL), else one checked out on first use."""
    connection: Connection | None = g.get(_READ_CONNECTION)
    if connection is None:
        uow = state().uow
        if uow.keeps_read_connections:
            connection = uow.kept_read_connection()
        else:
            connection = uow.read_connection()
        setattr(g, _READ_CONNECTION, connection)
    return connection


def release_read_connection() -> None:
    """End the request's use of its read connection (a teardown hook calls this).

    A kept connection stays with the thread (its SQLAlchemy transaction, which in
    autocommit holds nothing on the server, is ended) unless it broke, in which case
    it is given back and the next request takes a fresh one; any other goes back to
    the pool.
    """
    connection: Connection | None = g.pop(_READ_CONNECTION, None)
    if connection is None:
        return
    uow = state().uow
    if not uow.keeps_read_connections:
        connection.close()
        return
    try:
        if connection.in_transaction() and not connection.invalidated:
            connection.rollback()
    except Exception:  # a broken connection is replaced, whatever broke it
        uow.forget_read_connection(connection)
        return
    if connection.invalidated:
        uow.forget_read_connection(connection)
