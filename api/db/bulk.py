"""Many rows into one table in one statement, with a statement text that does not grow.

On PostgreSQL the rows travel column by column as arrays and the database
unzips them: ``INSERT INTO t (a, b) SELECT * FROM unnest(%s::uuid[], %s::text[])``.
One round trip and one short statement psycopg parses once, where SQLAlchemy's
``insertmanyvalues`` writes a ``VALUES`` list of thousands of placeholders that
psycopg re-parses in Python for every batch (0.2 s of a 1,000-mutation push's
CPU went to that conversion). Elsewhere (SQLite) it is a Core executemany.

Rows are plain dicts with the same keys; the caller supplies every value a
column's Python-side default would (server defaults still apply to columns left
out). JSON columns take Python values, serialised here.

:func:`copy_rows` is the faster path for a hot append-only table on PostgreSQL:
binary ``COPY`` (psycopg's C writer; a third of the time of the arrays above for
a thousand rows) inside a savepoint, which it rolls back when a row's key is
already taken, so the caller can fall back to :func:`insert_rows` with
``skip_conflicts``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

import psycopg
from sqlalchemy import JSON, Connection, Table, insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def insert_rows(
    connection: Connection,
    model: Any,
    rows: Sequence[dict[str, Any]],
    *,
    skip_conflicts: bool = False,
) -> None:
    """Insert ``rows`` into the table of ``model`` (a mapped class); with
    ``skip_conflicts``, a row whose key is taken is skipped (``ON CONFLICT DO NOTHING``)."""
    table: Table = model.__table__
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        plain = sqlite_insert(table).on_conflict_do_nothing() if skip_conflicts else insert(table)
        connection.execute(plain, list(rows))
        return
    names = tuple(rows[0])
    statement = _statement(connection, table, names)
    if skip_conflicts:
        statement += " ON CONFLICT DO NOTHING"
    arrays = []
    for name in names:
        values = [row[name] for row in rows]
        if _is_json(table, name):
            values = [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
        arrays.append(values)
    connection.exec_driver_sql(statement, tuple(arrays))


def copy_rows(
    connection: Connection,
    model: Any,
    names: Sequence[str],
    types: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> bool:
    """``COPY`` ``rows`` (tuples in the order of ``names``, PostgreSQL ``types`` such as
    ``uuid``, ``float8``) into the table of ``model`` in one binary stream. False, with
    nothing written, when a row's primary or unique key is taken (the savepoint is
    rolled back; the transaction goes on). PostgreSQL only."""
    table: Table = model.__table__
    quote = connection.dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    cursor = connection.connection.cursor()
    try:
        cursor.execute("SAVEPOINT fieldline_copy_rows")
        try:
            with cursor.copy(
                f"COPY {quote(table.name)} ({columns}) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(list(types))
                for row in rows:
                    copy.write_row(row)
        except psycopg.errors.UniqueViolation:
            cursor.execute("ROLLBACK TO SAVEPOINT fieldline_copy_rows")
            return False
        cursor.execute("RELEASE SAVEPOINT fieldline_copy_rows")
        return True
    finally:
        cursor.close()


def with_defaults(model: Any, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` plus what each missing column's Python-side default gives (as the ORM
    would at flush): for rows written by :func:`insert_rows` without ORM objects."""
    table: Table = model.__table__
    for column in table.columns:
        default = column.default
        if column.name in values or default is None:
            continue
        if default.is_scalar:
            values[column.name] = default.arg  # type: ignore[attr-defined]
        elif default.is_callable:
            values[column.name] = default.arg(None)  # type: ignore[attr-defined]
    return values


def _is_json(table: Table, name: str) -> bool:
    return isinstance(table.c[name].type, JSON)


def _statement(connection: Connection, table: Table, names: tuple[str, ...]) -> str:
    return _text(connection.dialect, table, names)


@functools.cache
def _text(dialect: Any, table: Table, names: tuple[str, ...]) -> str:
    casts = []
    for name in names:
        kind = table.c[name].type.compile(dialect=dialect)
        # JSON travels as text and is cast element by element.
        casts.append(f"%s::text[]::{kind}[]" if _is_json(table, name) else f"%s::{kind}[]")
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    # Only the table's own names and types are in the text; every value is bound.
    return f"INSERT INTO {quote(table.name)} ({columns}) SELECT * FROM unnest({', '.join(casts)})"  # noqa: S608
