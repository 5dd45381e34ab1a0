"""``column IN (…)`` for long lists of values, written so the database can reuse the statement.

On PostgreSQL a list becomes ``column = ANY(:values)``: one array parameter, so
the statement text is the same for any number of values (psycopg parses it
once and the server can prepare it), where ``IN`` with 500 values is a new
500-placeholder statement every time. SQLite keeps ``IN``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session


def among(session: Session, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        array = bindparam(None, list(values), type_=ARRAY(column.type))
        result: ColumnElement[bool] = column == any_(array)
        return result
    return column.in_(values)  # type: ignore[no-any-return]
