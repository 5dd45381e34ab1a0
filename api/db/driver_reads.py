"""Hot reads run on the database driver itself, compiled once per key (PostgreSQL).

For a read that runs on most requests, SQLAlchemy's per-execution work (cache key
lookup, result metadata built from the cursor's column descriptions, type
processing) cost twice the driver's own time. :class:`DriverReads` compiles a
statement once per caller-chosen key and runs the SQL text on the psycopg cursor,
returning plain tuples. Only for statements whose values need no conversion on
PostgreSQL (psycopg returns UUIDs, numbers, strings and aware datetimes itself);
enums and other SQLAlchemy types come back as stored.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql.expression import ClauseElement

DRIVER_CURSOR = "fieldline_driver_cursor"  # key in the pool entry's info
BINARY_DRIVER_CURSOR = "fieldline_binary_driver_cursor"


class DriverReads:
    """Compiled SQL text and fixed parameters per key; bounded, cleared when full.

    ``binary`` asks PostgreSQL for its binary format: the same Python values, parsed
    with less client CPU (a quarter less for a page of 50 wide rows, mostly UUIDs and
    timestamps); worth it for reads of many rows.
    """

    def __init__(self, max_entries: int = 1024, *, binary: bool = False) -> None:
        self._compiled: dict[Hashable, tuple[str, dict[str, Any]]] = {}
        self._max_entries = max_entries
        self._binary = binary
        self._cursor_key = BINARY_DRIVER_CURSOR if binary else DRIVER_CURSOR

    def fetch(
        self,
        connection: Connection,
        key: Hashable,
        build: Callable[[], ClauseElement],
        params: dict[str, Any],
    ) -> Sequence[Any]:
        """The rows of ``build()`` (compiled the first time ``key`` is seen) with ``params``.

        ``build`` must give the same statement, bound values included, whenever it
        is called for the same key. On a driver error the read runs again through
        SQLAlchemy, which gives it the app's usual handling (a lost server
        invalidates the pool and the API answers 503): a read is safe to repeat, and
        a failure repeats as the same error.
        """
        sql, fixed = self._compile(connection, key, build)
        values = {**fixed, **params}
        pooled = connection.connection
        try:
            # One cursor per database connection, kept with it (the pool entry's
            # ``info`` lives exactly as long as the driver connection): making and
            # closing a psycopg cursor cost a fifth of a round trip's client CPU.
            cursor = pooled.info.get(self._cursor_key)
            if cursor is None or cursor.closed:
                dbapi_connection = pooled.dbapi_connection
                cursor = dbapi_connection.cursor(binary=self._binary)  # type: ignore[union-attr]
                pooled.info[self._cursor_key] = cursor
            cursor.execute(sql, values)
            return cursor.fetchall()
        except connection.dialect.loaded_dbapi.Error:
            stale = pooled.info.pop(self._cursor_key, None)
            if stale is not None:
                stale.close()
            return connection.exec_driver_sql(sql, values).all()

    def _compile(
        self, connection: Connection, key: Hashable, build: Callable[[], ClauseElement]
    ) -> tuple[str, dict[str, Any]]:
        known = self._compiled.get(key)
        if known is None:
            compiled = build().compile(
                dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
            )
            known = (compiled.string, dict(compiled.params))
            if len(self._compiled) >= self._max_entries:
                self._compiled.clear()  # crude, but a full cache only costs compiles
            self._compiled[key] = known
        return known
