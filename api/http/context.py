"""What a view needs from the app: units of work, the request's read connection, settings.

A request reads through one pooled connection (:func:`read_connection`):
authentication looks the caller's session up on it and :func:`read_uow` binds
the view's read-only unit of work to it, so a read costs one pool checkout, not
two. Each unit of work still runs its own transaction on it (a view never sees
a snapshot older than its own start); :func:`release_read_connection` returns
the connection to the pool when the request ends. Writes use their own
connection and transaction (:func:`new_uow`), and hand the read connection
back first if it is idle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, g
from sqlalchemy import Connection

from api.auth.services import AuthSettings
from api.auth.session_cache import SessionCache
from api.db import UnitOfWork, UnitOfWorkFactory

_READ_CONNECTION = "fieldline_read_connection"


@dataclass
class FieldlineState:
    """Stored at ``app.extensions["fieldline"]``."""

    uow: UnitOfWorkFactory
    auth_settings: AuthSettings
    config: Any
    # Live sessions seen lately (PostgreSQL only; see api.auth.session_cache).
    session_cache: SessionCache | None = None


def state() -> FieldlineState:
    return current_app.extensions["fieldline"]  # type: ignore[no-any-return]


def new_uow() -> UnitOfWork:
    """A unit of work for a service that writes.

    The request's read connection goes back to the pool first when nothing is
    reading on it (authentication is done with it by now), so a write request does
    not hold one pooled connection while it waits for another: with a small pool
    and busy threads that hold-and-wait would time out.
    """
    connection: Connection | None = g.get(_READ_CONNECTION)
    if connection is not None and not connection.in_transaction():
        release_read_connection()
    return state().uow()


def read_uow() -> UnitOfWork:
    """A unit of work for a view that only reads (never commits)."""
    return state().uow.reader(bind=read_connection())


def read_connection() -> Connection:
    """The request's read-only connection, checked out on first use."""
    connection: Connection | None = g.get(_READ_CONNECTION)
    if connection is None:
        connection = state().uow.read_connection()
        setattr(g, _READ_CONNECTION, connection)
    return connection


def release_read_connection() -> None:
    """Return the request's read connection to the pool (a teardown hook calls this)."""
    connection: Connection | None = g.pop(_READ_CONNECTION, None)
    if connection is not None:
        connection.close()
