"""The registry of syncable models, and row values in their wire form.

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
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from api.assets.models import Asset
from api.categories.models import Category
from api.customers.models import Contact, Customer
from api.dispatching.models import Offer
from api.evidence.models import PartUsed, Photo, Reading, TimeEntry
from api.sites.models import Site
from api.sync.models import SyncConflict, SyncQuarantine
from api.workorders.models import Note, StatusChange, WorkOrder
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
# Customer visibility of parts, readings, time entries and photos is the office's
# (server-side, not in the protocol's row images); a note's visibility is its author's.
_SHARED_HIDDEN = _EVIDENCE_HIDDEN | {"visibility"}
# What the photo pipeline derives on the server (processing state, EXIF metadata,
# placeholder) and the office's annotations: the device has the original itself.
_PHOTO_HIDDEN = _SHARED_HIDDEN | {
    "processing",
    "processing_error",
    "width",
    "height",
    "captured_at",
    "captured_local",
    "gps_lat",
    "gps_lon",
    "gps_alt",
    "blurhash",
    "dominant_color",
    "annotations",
}

SYNCABLE: dict[type[Any], Syncable] = {
    s.model: s
    for s in (
        # complaint and amount are the office's service desk facts (escalation rules);
        # required skills are dispatch's (who may be offered the order).
        Syncable(
            Table.WORK_ORDERS,
            WorkOrder,
            (),
            frozenset({"create_digest", "complaint", "amount", "required_skills"}),
        ),
        Syncable(Table.CUSTOMERS, Customer),
        Syncable(Table.CONTACTS, Contact, ("customer_id",), frozenset({"user_id"})),
        Syncable(Table.SITES, Site),
        # The label token is the office's to print; devices have no use for it.
        Syncable(Table.ASSETS, Asset, (), frozenset({"label_token"})),
        Syncable(Table.CATEGORIES, Category),
        Syncable(Table.STATUS_CHANGES, StatusChange, ("work_order_id",)),
        Syncable(Table.NOTES, Note, ("work_order_id",), _EVIDENCE_HIDDEN),
        Syncable(Table.PARTS_USED, PartUsed, ("work_order_id",), _SHARED_HIDDEN),
        Syncable(Table.READINGS, Reading, ("work_order_id",), _SHARED_HIDDEN),
        Syncable(Table.TIME_ENTRIES, TimeEntry, ("work_order_id",), _SHARED_HIDDEN),
        Syncable(Table.PHOTOS, Photo, ("work_order_id",), _PHOTO_HIDDEN),
        # A technician's own conflicts and parked mutations (PROTOCOL.md § 5.1).
        Syncable(Table.CONFLICTS, SyncConflict, ("technician_id",)),
        Syncable(Table.QUARANTINE, SyncQuarantine, ("technician_id",)),
        # Jobs offered to the technician (PROTOCOL.md § 8.9), answered by ``answer_offer``.
        Syncable(Table.OFFERS, Offer, ("technician_id",)),
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
# Images that carry the order's asset links as ``asset_ids``.
LINKED = frozenset({Table.WORK_ORDERS, Table.ASSET_HISTORY})


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


def wire_columns(syncable: Syncable) -> list[Any]:
    """The table's columns a device receives, in table order."""
    return [
        c
        for c in syncable.model.__table__.columns
        if c.name not in syncable.hidden
        and c.name != "tenant_id"
        and (syncable.shown is None or c.name in syncable.shown or c.name == "id")
    ]
