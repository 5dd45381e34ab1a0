"""Row images as a device receives them, and the registry of syncable models.

A row image is every column of the row except ``tenant_id`` (and columns only
the server needs), in protocol scalars (PROTOCOL.md § 3.2): UUIDs and decimals
as strings, timestamps RFC 3339 with ``Z``, enums by value. Floats (site
coordinates) are sent as decimal strings, because floats never appear in
protocol values. A work order's image carries ``asset_ids`` (sorted), so a
change to its asset links is a change of the order.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.orm import Session

from api.assets.models import Asset
from api.categories.models import Category
from api.customers.models import Contact, Customer
from api.db.driver_reads import DriverReads
from api.db.lists import among
from api.evidence.models import PartUsed, Photo, Reading, TimeEntry
from api.sites.models import Site
from api.sync.models import SyncConflict, SyncQuarantine
from api.workorders.models import Note, StatusChange, WorkOrder, WorkOrderAsset
from sync_protocol.entities import Table
from sync_protocol.errors import JSONValue
from sync_protocol.wire import format_timestamp

Row = dict[str, JSONValue]


@dataclass(frozen=True)
class Syncable:
    """How one model appears on the wire, and which parent rows its changes touch."""

    table: Table
    model: type[Any]
    parents: tuple[str, ...] = ()  # attributes naming rows whose scopes this row may join
    hidden: frozenset[str] = frozenset()
    shown: frozenset[str] | None = None  # when set, only these columns (and the id)


_EVIDENCE_HIDDEN = frozenset({"content_digest"})

SYNCABLE: dict[type[Any], Syncable] = {
    s.model: s
    for s in (
        Syncable(Table.WORK_ORDERS, WorkOrder, (), frozenset({"create_digest"})),
        Syncable(Table.CUSTOMERS, Customer),
        Syncable(Table.CONTACTS, Contact, ("customer_id",), frozenset({"user_id"})),
        Syncable(Table.SITES, Site),
        Syncable(Table.ASSETS, Asset),
        Syncable(Table.CATEGORIES, Category),
        Syncable(Table.STATUS_CHANGES, StatusChange, ("work_order_id",)),
        Syncable(Table.NOTES, Note, ("work_order_id",), _EVIDENCE_HIDDEN),
        Syncable(Table.PARTS_USED, PartUsed, ("work_order_id",), _EVIDENCE_HIDDEN),
        Syncable(Table.READINGS, Reading, ("work_order_id",), _EVIDENCE_HIDDEN),
        Syncable(Table.TIME_ENTRIES, TimeEntry, ("work_order_id",), _EVIDENCE_HIDDEN),
        Syncable(Table.PHOTOS, Photo, ("work_order_id",), _EVIDENCE_HIDDEN),
        # A technician's own conflicts and parked mutations (PROTOCOL.md § 5.1).
        Syncable(Table.CONFLICTS, SyncConflict, ("technician_id",)),
        Syncable(Table.QUARANTINE, SyncQuarantine, ("technician_id",)),
    )
}
# Past orders of an asset, as a technician at the asset needs them: what was done, when.
# One row per order (its id), read-only; the same order may also be in ``work_orders``.
ASSET_HISTORY = Syncable(
    Table.ASSET_HISTORY,
    WorkOrder,
    shown=frozenset(
        {
            "number",
            "title",
            "status",
            "priority",
            "category_id",
            "site_id",
            "resolution",
            "created_at",
            "completed_at",
            "closed_at",
            "cancelled_at",
        }
    ),
)
BY_TABLE: dict[Table, Syncable] = {s.table: s for s in (*SYNCABLE.values(), ASSET_HISTORY)}


def wire_value(value: Any) -> JSONValue:
    kind = type(value)
    if kind is str or kind is int or value is None or kind is bool:
        return value  # type: ignore[no-any-return]
    if kind is uuid.UUID:
        return str(value)
    if kind is dt.datetime:
        return format_timestamp(value)
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, enum.Enum):
        return wire_value(value.value)
    if isinstance(value, uuid.UUID | Decimal | float):
        return str(value)
    if isinstance(value, dt.datetime):
        return format_timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):  # JSON columns (a work order's field stamps) hold JSON already
        return {str(k): wire_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [wire_value(v) for v in value]
    raise TypeError(f"no wire form for {type(value).__name__}")


def materialise(
    session: Session, tenant_id: uuid.UUID, table: Table, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Row]:
    """The current images of these rows of the tenant; absent rows are left out."""
    wanted = list(set(ids))  # any order: the images come back keyed by ID
    if not wanted:
        return {}
    syncable = BY_TABLE[table]
    model = syncable.model
    columns = [
        c
        for c in model.__table__.columns
        if c.name not in syncable.hidden
        and c.name != "tenant_id"
        and (syncable.shown is None or c.name in syncable.shown or c.name == "id")
    ]
    linked = table in (Table.WORK_ORDERS, Table.ASSET_HISTORY)
    inline = linked and session.get_bind().dialect.name == "postgresql"
    if inline:  # the asset links come with the row, sorted, in the same statement
        columns.append(_linked_assets(model).label("asset_ids"))
    names = [c.name for c in columns]
    at = names.index("id")
    images: dict[uuid.UUID, Row] = {}
    for chunk in _chunks(wanted):
        for record in _records(session, tenant_id, table, columns, chunk):
            images[record[at]] = {n: wire_value(v) for n, v in zip(names, record, strict=True)}
    if inline:
        for image in images.values():
            image["asset_ids"] = image["asset_ids"] or []
    elif linked:
        for order_id, asset_ids in _asset_ids(session, tenant_id, images).items():
            images[order_id]["asset_ids"] = [str(a) for a in sorted(asset_ids)]
    return images


def _linked_assets(model: Any) -> Any:
    """The order's asset IDs, sorted, as one array column (PostgreSQL)."""
    ordered = aggregate_order_by(WorkOrderAsset.asset_id, WorkOrderAsset.asset_id)
    return (
        select(func.array_agg(ordered))
        .where(WorkOrderAsset.work_order_id == model.id)
        .scalar_subquery()
    )


def _records(
    session: Session,
    tenant_id: uuid.UUID,
    table: Table,
    columns: list[Any],
    ids: list[uuid.UUID],
) -> Sequence[Any]:
    """The rows' columns as tuples. On PostgreSQL the statement is compiled once per table
    and runs on the driver: psycopg already returns every value in a form
    :func:`wire_value` takes (enums as their stored text, aware datetimes), and
    SQLAlchemy's per-row type processing was a third of a pull page's time."""
    model = BY_TABLE[table].model
    if session.get_bind().dialect.name != "postgresql":
        query = select(*columns).where(model.tenant_id == tenant_id, model.id.in_(ids))
        return session.execute(query).all()

    def build() -> Any:
        return select(*columns).where(
            model.tenant_id == bindparam("tenant"),
            model.id == any_(bindparam("ids", type_=ARRAY(model.id.type))),
        )

    return _DRIVER.fetch(
        session.connection(), ("materialise", table), build, {"tenant": tenant_id, "ids": ids}
    )


_DRIVER = DriverReads()


def _asset_ids(
    session: Session, tenant_id: uuid.UUID, orders: dict[uuid.UUID, Row]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    links: dict[uuid.UUID, list[uuid.UUID]] = {order_id: [] for order_id in orders}
    for chunk in _chunks(list(orders)):
        query = select(WorkOrderAsset.work_order_id, WorkOrderAsset.asset_id).where(
            WorkOrderAsset.tenant_id == tenant_id,
            among(session, WorkOrderAsset.work_order_id, chunk),
        )
        for order_id, asset_id in session.execute(query):
            links[order_id].append(asset_id)
    return links


def group_by_table(keys: Iterable[tuple[Table, uuid.UUID]]) -> dict[Table, set[uuid.UUID]]:
    grouped: dict[Table, set[uuid.UUID]] = defaultdict(set)
    for table, row_id in keys:
        grouped[table].add(row_id)
    return grouped


def _chunks(items: list[uuid.UUID], size: int = 500) -> Iterable[list[uuid.UUID]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
