"""Reading the query parameters WatermelonDB's ``pullChanges``/``pushChanges`` send.

The stock frontend writes ``last_pulled_at=${lastPulledAt}`` whatever the value,
so ``null`` (first sync) arrives as the text ``null``; ``migration`` is URL-encoded
JSON or ``null``. ``schema_version`` is the app's WatermelonDB schema and is not
compared with anything (apps add local-only tables); ``replica_schema`` is
Fieldline's replica schema (PROTOCOL.md § 2), checked like a sync body's
``schema``. Everything is read strictly, with the protocol's ``sync.*``
codes and the parameter's name as ``field``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sync_protocol.errors import ProtocolError
from sync_protocol.versions import SCHEMA_VERSION
from sync_protocol.wire import ObjectReader, decode, read_text, read_uuid

MAX_NUMBER = 2**53 - 1
_KNOWN = frozenset(
    {"last_pulled_at", "schema_version", "replica_schema", "migration", "technician_id"}
)


@dataclass(frozen=True)
class Migration:
    """What the app's local migrations added since its last sync (contract rule 6)."""

    from_version: int
    tables: frozenset[str]
    columns: Mapping[str, frozenset[str]]  # table → added columns


@dataclass(frozen=True)
class PullParams:
    last_pulled_at: int  # 0: first sync
    schema_version: int | None  # the app's own WatermelonDB schema: read, never compared
    replica_schema: int  # Fieldline's replica schema (PROTOCOL.md § 2) the app follows
    migration: Migration | None
    technician_id: uuid.UUID | None  # office callers name the technician they pull for


def read_pull_params(args: Mapping[str, str]) -> PullParams:
    unknown = sorted(set(args) - _KNOWN)
    if unknown:
        raise ProtocolError("sync.unknown_field", f"Unknown parameter {unknown[0]}", unknown[0])
    schema = args.get("schema_version")
    return PullParams(
        last_pulled_at=read_last_pulled_at(args.get("last_pulled_at")),
        schema_version=None if schema is None else _number(schema, "schema_version"),
        replica_schema=read_replica_schema(args.get("replica_schema")),
        migration=_migration(args.get("migration")),
        technician_id=_technician(args.get("technician_id")),
    )


def read_replica_schema(text: str | None) -> int:
    """The replica schema the app's synced tables follow; absent: this server's.

    Separate from WatermelonDB's ``schemaVersion``, which numbers the app's whole
    local schema (local-only tables and columns included) and is the app's own.
    """
    return SCHEMA_VERSION if text is None else _number(text, "replica_schema")


def read_last_pulled_at(text: str | None) -> int:
    """``null``, empty or absent: 0 (first sync); else a non-negative integer."""
    if text is None or text in ("", "null", "undefined"):
        return 0
    return _number(text, "last_pulled_at", minimum=0)


def _number(text: str, field: str, *, minimum: int = 1) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 16:
        raise ProtocolError("sync.wrong_type", "Expected an integer", field)
    value = int(text)
    if not minimum <= value <= MAX_NUMBER:
        raise ProtocolError("sync.invalid_value", f"Must be between {minimum} and 2^53-1", field)
    return value


def _technician(text: str | None) -> uuid.UUID | None:
    if text is None or text == "":
        return None
    return read_uuid(text, "technician_id")


def _migration(text: str | None) -> Migration | None:
    if text is None or text in ("", "null"):
        return None
    value = decode(text.encode("utf-8"))
    if value is None:
        return None
    reader = ObjectReader(value, "migration", frozenset({"from", "tables", "columns"}))
    from_version = reader.integer("from", minimum=0, maximum=1_000_000)
    tables = frozenset(
        read_text(item, path, max_len=64) for path, item in reader.items("tables", max_items=256)
    )
    columns: dict[str, frozenset[str]] = {}
    for path, item in reader.items("columns", max_items=256):
        entry = ObjectReader(item, path, frozenset({"table", "columns"}))
        names = entry.items("columns", max_items=256)
        added = frozenset(read_text(name, at, max_len=64) for at, name in names)
        table = entry.text("table", max_len=64)
        columns[table] = columns.get(table, frozenset()) | added
    return Migration(from_version, tables, columns)
