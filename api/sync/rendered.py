"""Row images rendered by PostgreSQL itself (pulls, checkpoints, WatermelonDB).

Converting every value in Python was half of an initial pull's server time:
psycopg built a ``UUID`` or ``datetime`` object per value, and
:func:`~api.sync.syncables.wire_value` turned each back into text. Here the
statement does it: UUIDs are cast to text, and a timestamp is written as
PostgreSQL's ISO output of its UTC time with ``T`` and ``Z`` put in. That
output drops trailing zeros of the fraction (and the fraction when it is
zero), exactly as :func:`sync_protocol.wire.format_timestamp` does. psycopg
then hands back the final strings. Floats, decimals and JSON values are still
converted in Python: their text forms differ between PostgreSQL and Python.
A test holds the images of every syncable table equal to ``wire_value`` of the
ORM's values.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    DateTime,
    Integer,
    String,
    Text,
    Uuid,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.orm import configure_mappers
from sqlalchemy.types import TypeDecorator

from api.db.driver_reads import DriverReads
from api.sync.syncables import BY_TABLE, LINKED, Row, wire_columns, wire_value
from api.workorders.models import WorkOrderAsset
from sync_protocol.entities import Table

CHUNK = 1000  # IDs per statement


@dataclass(frozen=True)
class _Projection:
    """What one table's statement selects: the image's values, then the row's ID."""

    names: tuple[str, ...]  # the image's keys, in the statement's column order
    converted: tuple[int, ...]  # positions whose values are still converted in Python
    columns: tuple[Any, ...]  # the select list, the raw ID last (the images' key)


def rendered_images(
    connection: Connection, tenant_id: uuid.UUID, table: Table, ids: list[uuid.UUID]
) -> dict[uuid.UUID, Row]:
    """The current images of these rows of the tenant, keyed by ID; absent rows left out."""
    projection = _projection(table)
    model = BY_TABLE[table].model
    names, converted = projection.names, projection.converted

    def build() -> Any:
        return select(*projection.columns).where(
            model.tenant_id == bindparam("tenant"),
            model.id == any_(bindparam("ids", type_=ARRAY(Uuid()))),
        )

    images: dict[uuid.UUID, Row] = {}
    for start in range(0, len(ids), CHUNK):
        params = {"tenant": tenant_id, "ids": ids[start : start + CHUNK]}
        for record in _READS.fetch(connection, ("rendered", table), build, params):
            image: Row = dict(zip(names, record, strict=False))  # the ID comes last
            for at in converted:
                image[names[at]] = wire_value(record[at])
            images[record[-1]] = image
    return images


@functools.cache
def _projection(table: Table) -> _Projection:
    configure_mappers()  # foreign-key columns learn their type from the referenced column
    names: list[str] = []
    converted: list[int] = []
    columns: list[Any] = []
    for column in wire_columns(BY_TABLE[table]):
        rendered = _rendered(column)
        if rendered is None:
            converted.append(len(columns))
            rendered = column
        names.append(column.name)
        columns.append(rendered.label(column.name))
    if table in LINKED:
        names.append("asset_ids")
        columns.append(_linked_assets(BY_TABLE[table].model).label("asset_ids"))
    columns.append(BY_TABLE[table].model.id)
    return _Projection(tuple(names), tuple(converted), tuple(columns))


def _rendered(column: Any) -> Any | None:
    """The column's wire form as an SQL expression; None: converted in Python."""
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, Uuid):
        return cast(column, Text)
    if isinstance(kind, DateTime) and kind.timezone:
        utc_text = cast(func.timezone(literal_column("'UTC'"), column), Text)
        return func.replace(
            utc_text, literal_column("' '"), literal_column("'T'"), type_=Text
        ).concat(literal_column("'Z'"))
    if isinstance(kind, Date):
        return cast(column, Text)  # ISO, the only DateStyle psycopg reads
    if isinstance(kind, String | Integer | Boolean):  # enums are stored as their text
        return column
    return None


def _linked_assets(model: Any) -> Any:
    """The order's asset IDs as text, sorted by ID, in one array column ([] if none)."""
    ordered = aggregate_order_by(cast(WorkOrderAsset.asset_id, Text), WorkOrderAsset.asset_id)
    linked = (
        select(func.array_agg(ordered))
        .where(WorkOrderAsset.work_order_id == model.id)
        .scalar_subquery()
    )
    return func.coalesce(linked, literal_column("'{}'::text[]"), type_=ARRAY(Text()))


_READS = DriverReads()
