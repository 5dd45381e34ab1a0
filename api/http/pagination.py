"""Cursor pagination: ``?limit=&cursor=`` in, ``{"items", "next_cursor"}`` out.

Pages are keyset pages over a unique sort key (UUIDv7 ids, optionally after a
timestamp), so inserting rows while a client pages never duplicates or skips
the rows that already existed. The cursor is opaque base64url JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

import marshmallow as ma
from flask import Response, current_app
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.errors.common import InvalidCursor
from api.http.schemas import Schema

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

_T = TypeVar("_T")


class PageArgs(Schema):
    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT, validate=ma.validate.Range(min=1, max=MAX_LIMIT)
    )
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=512))


@dataclass(frozen=True)
class Page:
    items: Sequence[Any]
    next_cursor: str | None


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([str(v) for v in values]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc
    if not isinstance(values, list) or len(values) != arity:
        raise InvalidCursor()
    return [str(v) for v in values]


def paginate(
    session: Session,
    stmt: Select[Any],
    id_column: InstrumentedAttribute[uuid.UUID],
    *,
    limit: int,
    cursor: str | None,
    descending: bool = False,
    after: InstrumentedAttribute[datetime] | None = None,
) -> Page:
    """Run ``stmt`` (already filtered and tenant-scoped) as one keyset page ordered by id,
    or by the timestamp ``after`` and then id (ties, and timestamps out of id order)."""
    if after is not None:
        return _paginate_by_time(session, stmt, after, id_column, limit, cursor)
    if cursor is not None:
        (last,) = decode_cursor(cursor, 1)
        last_id = _cursor_value(uuid.UUID, last)
        stmt = stmt.where(id_column < last_id if descending else id_column > last_id)
    order = id_column.desc() if descending else id_column.asc()
    rows = list(session.scalars(stmt.order_by(order).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor([rows[-1].id]) if has_more else None
    return Page(items=rows, next_cursor=next_cursor)


def _paginate_by_time(
    session: Session,
    stmt: Select[Any],
    at: InstrumentedAttribute[datetime],
    id_column: InstrumentedAttribute[uuid.UUID],
    limit: int,
    cursor: str | None,
) -> Page:
    """Oldest first by ``at``, then id: a keyset on the pair, so the cursor names both."""
    if cursor is not None:
        last_at_text, last_id_text = decode_cursor(cursor, 2)
        last_at = _cursor_value(datetime.fromisoformat, last_at_text)
        last_id = _cursor_value(uuid.UUID, last_id_text)
        if last_at.tzinfo is None:
            raise InvalidCursor()
        stmt = stmt.where(or_(at > last_at, and_(at == last_at, id_column > last_id)))
    rows = list(session.scalars(stmt.order_by(at.asc(), id_column.asc()).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if has_more:
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, at.key).isoformat(), last.id])
    return Page(items=rows, next_cursor=next_cursor)


def _cursor_value(parse: Callable[[str], _T], text: str) -> _T:
    try:
        return parse(text)
    except ValueError as exc:
        raise InvalidCursor() from exc


def page_response(page: Page) -> Response:
    """A page whose items are already in their wire shape (dataclasses of strings,
    UUIDs, numbers, enums and ``utc_text`` timestamps), written straight by the
    app's JSON provider (orjson). For hot reads that skip their schema's dump: the
    schema still documents the response, and their tests validate bodies against it."""
    body = {"items": page.items, "next_cursor": page.next_cursor}
    return cast(Response, current_app.json.response(body))


_page_schemas: dict[str, type[ma.Schema]] = {}


def page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """A ``{"items": [...], "next_cursor": ...}`` schema named after its item schema."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    if name not in _page_schemas:
        _page_schemas[name] = type(
            name,
            (ma.Schema,),
            {
                "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
                "next_cursor": ma.fields.String(allow_none=True, required=True),
            },
        )
    return _page_schemas[name]
