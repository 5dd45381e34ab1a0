"""WatermelonDB raw records: which tables and columns an app may see, and in what form.

WatermelonDB's backend contract (rules 7–13 of its pull endpoint) asks for raw
records: raw column names, values that are strings, numbers, booleans or null,
only whitelisted tables and columns, and IDs of safe characters. We build them
from the same row images the sync pull sends (``api.sync.rows.materialise``),
so both endpoints show the same data: UUIDs stay strings, timestamps become
epoch milliseconds (what WatermelonDB's ``@date`` fields hold), site
coordinates become numbers, everything else keeps its wire form. Server
bookkeeping (``tenant_id``, ``version``, ``field_hlcs``, ``status_hlc``,
``created_by``, evidence HLCs) is not whitelisted.

A work order's ``asset_ids`` becomes rows of ``work_order_assets`` with ID
``<work_order_id>_<asset_id>``: WatermelonDB has no list columns, and a join
table is how a Watermelon app models a many-to-many relation.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from types import MappingProxyType

from sqlalchemy import DateTime, Float

from api.sync.syncables import BY_TABLE, Row
from sync_protocol.entities import Table
from sync_protocol.errors import JSONValue
from sync_protocol.wire import canonical_json, format_timestamp, parse_timestamp

RawRecord = dict[str, JSONValue]
SAFE_ID = re.compile(r"[A-Za-z0-9_.-]{1,128}", re.ASCII)  # contract rule 11

_EVIDENCE = "id work_order_id author_kind author_id device_id created_at occurred_at"
_VOIDS = "voided_at voided_by void_reason"
_TIMESTAMPED = "created_at updated_at"

# Tables and columns an app may receive and send (contract rules 10 and 13). A
# table appears in pulls once it is syncable (``api.sync.syncables.BY_TABLE``); a
# column only if the row image has it.
_COLUMNS = {
    Table.WORK_ORDERS: f"""id number title description customer_id site_id category_id priority
        status assignee_id requested_start requested_end scheduled_start scheduled_end
        sla_due_at resolution source actual_start actual_end completed_at closed_at
        cancelled_at current_steps {_TIMESTAMPED}""",
    Table.WORK_ORDER_ASSETS: "id work_order_id asset_id",
    Table.CUSTOMERS: f"id code name name_en tier phone email notes active {_TIMESTAMPED}",
    Table.CONTACTS: f"""id customer_id name name_en job_title phone email is_primary
        {_TIMESTAMPED}""",
    Table.SITES: f"""id customer_id name name_en address address_en city lat lon access_notes
        timezone active {_TIMESTAMPED}""",
    Table.ASSETS: f"""id site_id customer_id name name_en manufacturer model serial_number
        barcode_value barcode_symbology installed_on warranty_ends_on notes active
        gs1_gtin gs1_serial gs1_lot gs1_expires_on provisional {_TIMESTAMPED}""",
    Table.CATEGORIES: f"id parent_id level code name name_en sort_order active {_TIMESTAMPED}",
    Table.STATUS_CHANGES: """id work_order_id action from_status to_status reason actor_kind
        actor_id occurred_at recorded_at""",
    Table.NOTES: f"{_EVIDENCE} body visibility {_VOIDS}",
    Table.PARTS_USED: f"{_EVIDENCE} description quantity unit part_number asset_id {_VOIDS}",
    Table.READINGS: f"{_EVIDENCE} metric value unit taken_at asset_id {_VOIDS}",
    Table.TIME_ENTRIES: f"{_EVIDENCE} activity started_at ended_at note {_VOIDS}",
    Table.PHOTOS: f"""{_EVIDENCE} sha256 content_type size caption taken_at asset_id note_id
        state {_VOIDS}""",
    # Jobs offered to the technician (§ 8.9): the app answers one by setting ``state``
    # to ``accepted`` or ``declined`` (with ``reason``, and ``answered_at`` when it
    # knows); :mod:`api.sync.watermelon.translate` makes that an ``answer_offer``.
    Table.OFFERS: f"""id work_order_id technician_id attempt state number title site_address
        distance_m travel_s score offered_at expires_at answered_at reason {_TIMESTAMPED}""",
    # Read-only for the app: past orders of its assets, and what the server could
    # not take as sent (its conflicts and parked mutations; JSON members as text).
    Table.ASSET_HISTORY: """id number title status priority category_id site_id resolution
        created_at completed_at closed_at cancelled_at asset_ids""",
    Table.CONFLICTS: """id code table_name entity_id field server device kept mutation
        device_id technician_id state resolution resolved_value resolved_by resolved_at
        created_at""",
    Table.QUARANTINE: """id device_id technician_id seq mutation work_order_id code field
        detail state quarantined_at settled_by settled_at""",
}
# Tables an app receives but never changes: a push naming them is ignored (§ 15).
READ_ONLY = frozenset({Table.ASSET_HISTORY, Table.CONFLICTS, Table.QUARANTINE})
COLUMNS: Mapping[Table, tuple[str, ...]] = MappingProxyType(
    {table: tuple(names.split()) for table, names in _COLUMNS.items()}
)


def pulled_tables() -> list[Table]:
    """Whitelisted tables that exist on this server, in a fixed order."""
    return [t for t in COLUMNS if t in BY_TABLE or t is Table.WORK_ORDER_ASSETS]


def raw_record(table: Table, row: Row) -> RawRecord:
    """The whitelisted columns of a row image, in WatermelonDB's raw form."""
    timestamps, numbers = _kinds(table)
    raw: RawRecord = {}
    for name in COLUMNS[table]:
        if name not in row:
            continue
        value = row[name]
        if value is not None and name in timestamps:
            value = epoch_ms(parse_timestamp(str(value)))
        elif value is not None and name in numbers:
            value = float(str(value))
        elif isinstance(value, dict | list):  # WatermelonDB columns hold no structures
            value = canonical_json(value).decode()
        raw[name] = value
    return raw


def link_id(work_order_id: uuid.UUID | str, asset_id: uuid.UUID | str) -> str:
    return f"{work_order_id}_{asset_id}"


def link_records(order: Row) -> list[RawRecord]:
    """The ``work_order_assets`` rows of one work order image."""
    asset_ids = order.get("asset_ids")
    assert isinstance(asset_ids, list)
    return [
        {"id": link_id(str(order["id"]), str(a)), "work_order_id": order["id"], "asset_id": a}
        for a in asset_ids
    ]


def link_ids(work_order_ids: Iterable[uuid.UUID], asset_ids: Iterable[uuid.UUID]) -> set[str]:
    """Every link ID between these orders and these assets."""
    assets = sorted(set(asset_ids))
    return {link_id(order, asset) for order in set(work_order_ids) for asset in assets}


def epoch_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // _MILLISECOND


def from_epoch_ms(value: int) -> str:
    """An epoch-milliseconds value as a protocol timestamp (RFC 3339, UTC)."""
    return format_timestamp(_EPOCH + value * _MILLISECOND)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


@cache
def _kinds(table: Table) -> tuple[frozenset[str], frozenset[str]]:
    """Columns of ``table`` that are timestamps, and those that are floats."""
    if table not in BY_TABLE:
        return frozenset(), frozenset()
    columns = BY_TABLE[table].model.__table__.columns
    timestamps = {c.name for c in columns if isinstance(_impl(c.type), DateTime)}
    numbers = {c.name for c in columns if isinstance(_impl(c.type), Float)}
    return frozenset(timestamps), frozenset(numbers)


def _impl(column_type: object) -> object:
    return getattr(column_type, "impl", column_type)
