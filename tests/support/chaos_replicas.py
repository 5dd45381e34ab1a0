"""Replica equality, row by row, against an independent read of the database.

The SDK and the server compute a scope's checksum with the same code
(:mod:`sync_protocol.checksum`), so equal checksums cannot catch a bug in that
code or in the server's rendering. Here every row a device holds in a scope is
compared, column by column, with the database row read by plain SQL (no ORM, no
server rendering, no checksum): which rows a scope holds comes from
``sync_scope_members``; each row from its own table. A column the database does
not store (``asset_ids``, derived images such as ``asset_history``) is not
compared; every other column the client sees is.

:func:`compare_scope` is pure (and unit tested with planted divergences in
``tests/unit/chaos``); :func:`read_scope` is the database read.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

Key = tuple[str, str]  # (wire table, row id)
Rows = dict[Key, dict[str, Any]]

# Wire table -> database table; tables absent here carry a derived image only.
DB_TABLES = {
    "work_orders": "work_orders",
    "customers": "customers",
    "contacts": "contacts",
    "sites": "sites",
    "assets": "assets",
    "categories": "categories",
    "status_changes": "work_order_status_changes",
    "notes": "work_order_notes",
    "parts_used": "work_order_parts",
    "readings": "work_order_readings",
    "time_entries": "work_order_time_entries",
    "photos": "work_order_photos",
    "conflicts": "sync_conflicts",
    "quarantine": "sync_quarantine",
}


def read_scope(conn: Connection, tenant_id: uuid.UUID, scope: str) -> Rows:
    """Every row ``scope`` holds now, as the database stores it (plain SQL)."""
    members: dict[str, list[str]] = {}
    for table, row_id in conn.execute(
        text(
            "SELECT table_name, row_id FROM sync_scope_members "
            "WHERE tenant_id = :tenant AND scope = :scope"
        ),
        {"tenant": tenant_id, "scope": scope},
    ):
        members.setdefault(str(table), []).append(str(row_id))
    rows: Rows = {}
    for table, ids in members.items():
        db_table = DB_TABLES.get(table)
        if db_table is None:
            for row_id in ids:
                rows[(table, row_id)] = {}  # derived image: presence only
            continue
        found = conn.execute(
            text(f"SELECT * FROM {db_table} WHERE id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": ids},
        ).mappings()
        for row in found:
            rows[(table, str(row["id"]))] = dict(row)
        for row_id in ids:
            rows.setdefault((table, row_id), {"__missing_in_table__": True})
    return rows


def compare_scope(device: str, scope: str, held: Rows, server: Rows) -> list[str]:
    """Every difference between a device's rows in ``scope`` and the database's."""
    problems: list[str] = []
    for key in sorted(set(server) - set(held)):
        problems.append(f"{device} {scope}: misses {key[0]} {key[1]}")
    for key in sorted(set(held) - set(server)):
        problems.append(f"{device} {scope}: holds {key[0]} {key[1]} the scope does not")
    for key in sorted(set(held) & set(server)):
        db_row = server[key]
        if db_row.get("__missing_in_table__"):
            problems.append(f"{device} {scope}: {key[0]} {key[1]} listed but not stored")
            continue
        image = held[key]
        for column in sorted(set(image) & set(db_row)):
            if not same(image[column], db_row[column]):
                problems.append(
                    f"{device} {scope}: {key[0]} {key[1]}.{column} "
                    f"device {image[column]!r} != database {db_row[column]!r}"
                )
    return problems


def same(wire: Any, stored: Any) -> bool:
    """Whether a value as the device holds it (JSON) is the database's value."""
    if stored is None or wire is None:
        return stored is None and wire is None
    if isinstance(stored, bool) or isinstance(wire, bool):
        return stored is wire or (stored == wire and type(stored) is type(wire))
    if isinstance(stored, uuid.UUID):
        return isinstance(wire, str) and wire == str(stored)
    if isinstance(stored, dt.datetime):
        return isinstance(wire, str) and _instant(wire) == _utc(stored)
    if isinstance(stored, dt.date):
        return wire == stored.isoformat()
    if isinstance(stored, float | decimal.Decimal) and isinstance(wire, str | int | float):
        try:
            return decimal.Decimal(str(wire)) == decimal.Decimal(str(stored))
        except decimal.InvalidOperation:
            return False
    if isinstance(stored, Mapping | list):
        return _canon(wire) == _canon(stored)
    if isinstance(stored, str) and isinstance(wire, Mapping | list):
        return _canon(wire) == _canon(json.loads(stored))
    return bool(wire == stored) and type(wire) is type(stored)


def _instant(value: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return _utc(parsed)


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
