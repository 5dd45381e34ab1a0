"""The push and pull messages, as frozen dataclasses with strict ``from_json`` and ``to_json``.

``to_json()`` returns plain JSON-ready dicts (every key present, ``null`` when
empty); ``from_json()`` accepts exactly that shape and nothing else: unknown or
missing keys, wrong types, bad UUIDs or HLCs, negative numbers and oversized
batches are a :class:`~sync_protocol.errors.ProtocolError` with a stable code and
a field path. A mutation's ``args`` stay raw JSON here; they are typed by
:func:`sync_protocol.mutations.parse_args`, so one bad mutation is rejected on its
own instead of refusing the batch. Shapes: PROTOCOL.md § 4 and § 6.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as default
from types import MappingProxyType
from typing import TypeVar

from sync_protocol.entities import Table, TombstoneReason
from sync_protocol.errors import JSONValue, ProtocolError
from sync_protocol.hlc import HLC, MAX_WALL_MS
from sync_protocol.merge import FieldOutcome, Outcome
from sync_protocol.scopes import Scope
from sync_protocol.untrusted import storable, visible
from sync_protocol.wire import (
    MAX_DEPTH,
    ObjectReader,
    canonical_json,
    check_json,
    read_choice,
    read_int,
    read_text,
    read_uuid,
    text_map,
)

T = TypeVar("T")

MAX_BATCH = 1_000  # mutations per push (a day of offline work fits in one)
MAX_PULL_LIMIT = 1_000  # changes per pull page
DEFAULT_PULL_LIMIT = 500
MAX_SCOPES = 16
MAX_CURSOR = 512
MAX_NAME = 64
MAX_DETAIL = 2_000
MAX_SEQ = 2**53 - 1  # JavaScript's safe integers, since apps are often written in it
MAX_COUNT = 2**31 - 1

CODE = re.compile(r"sync\.[a-z_]{1,60}", re.ASCII)
_CHECKSUM = re.compile(r"[0-9a-f]{16}", re.ASCII)
_COMMON = frozenset({"protocol", "schema", "device_id", "device_time_ms", "outbox"})


@dataclass(frozen=True)
class OutboxReport:
    """What the device says about its own queue (for sync health)."""

    pending: int = 0
    oldest: HLC | None = None

    def to_json(self) -> dict[str, JSONValue]:
        return {"pending": self.pending, "oldest": str(self.oldest) if self.oldest else None}

    @classmethod
    def read(cls, r: ObjectReader) -> OutboxReport:
        return cls(r.integer("pending", minimum=0, maximum=MAX_COUNT), r.optional_hlc("oldest"))


@dataclass(frozen=True)
class Mutation:
    seq: int
    hlc: HLC
    name: str
    args: Mapping[str, JSONValue]
    # Set when ``args`` hold text no database can store (NUL, a lone surrogate) or are
    # nested past ``MAX_DEPTH``: the mutation is rejected with this error, alone (§ 6.1),
    # and ``args`` are then their storable copy (``sync_protocol.untrusted.storable``).
    invalid: ProtocolError | None = default(default=None, compare=False)

    def to_json(self) -> dict[str, JSONValue]:
        return {"seq": self.seq, "hlc": str(self.hlc), "name": self.name, "args": dict(self.args)}

    def digest(self) -> str:
        """SHA-256 of the canonical JSON: a replayed seq must carry the same digest."""
        canonical = canonical_json(self.to_json())
        if self.invalid is not None:  # never equal to a valid mutation's digest
            canonical = b"invalid\n" + canonical
        return hashlib.sha256(canonical).hexdigest()

    @classmethod
    def read(cls, value: object, path: str) -> Mutation:
        r = ObjectReader(value, path, frozenset({"seq", "hlc", "name", "args"}))
        seq = r.integer("seq", minimum=1, maximum=MAX_SEQ)
        hlc = r.hlc("hlc")
        name = r.text("name", max_len=MAX_NAME, min_len=1)
        raw = r.raw("args")
        if type(raw) is not dict:
            raise ProtocolError("sync.wrong_type", "Expected an object", r.at("args"))
        try:
            # The path the receipt names is inside the mutation (``args.body``).
            args = check_json(raw, "args")
        except ProtocolError as error:
            storable_args = storable(raw, MAX_DEPTH)
            assert isinstance(storable_args, dict)
            return cls(seq, hlc, name, MappingProxyType(storable_args), _visible(error))
        assert isinstance(args, dict)
        return cls(seq, hlc, name, MappingProxyType(args))


def _visible(error: ProtocolError) -> ProtocolError:
    """The error with a field path safe to store and print (a bad key may be in it)."""
    field = visible(error.field) if error.field else error.field
    return ProtocolError(error.code, error.detail, field)


@dataclass(frozen=True)
class PushRequest:
    device_id: uuid.UUID
    mutations: tuple[Mutation, ...]
    protocol: int = 1
    schema: int = 1
    device_time_ms: int = 0  # the device's physical clock at sending (skew samples)
    outbox: OutboxReport = default(default_factory=OutboxReport)

    def to_json(self) -> dict[str, JSONValue]:
        return {
            **_common_json(self.protocol, self.schema, self.device_id, self.device_time_ms),
            "outbox": self.outbox.to_json(),
            "mutations": [m.to_json() for m in self.mutations],
        }

    @classmethod
    def from_json(cls, value: object) -> PushRequest:
        r = ObjectReader(value, "", _COMMON | {"mutations"})
        protocol, schema, device, device_ms, outbox = _read_common(r)
        raw = r.raw("mutations")
        if isinstance(raw, list) and len(raw) > MAX_BATCH:
            raise ProtocolError(
                "sync.batch_too_large",
                f"{len(raw)} mutations; at most {MAX_BATCH}",
                "mutations",
                extra={"max_batch": MAX_BATCH},
            )
        mutations = tuple(
            Mutation.read(item, path) for path, item in r.items("mutations", max_items=MAX_BATCH)
        )
        return cls(device, mutations, protocol, schema, device_ms, outbox)


@dataclass(frozen=True)
class Receipt:
    seq: int
    status: Outcome
    hlc: HLC | None = None  # the effective HLC the server merged with (after clamping)
    code: str | None = None  # why rejected or in conflict; also sync.receipt_pruned
    field: str | None = None  # for input errors: the path inside the mutation
    detail: str | None = None
    warnings: tuple[str, ...] = ()
    fields: Mapping[str, FieldOutcome] = default(default_factory=dict)  # patch_work_order
    conflict_ids: tuple[uuid.UUID, ...] = ()
    entity_id: uuid.UUID | None = None  # the work order the mutation touched

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "seq": self.seq,
            "status": self.status.value,
            "hlc": str(self.hlc) if self.hlc else None,
            "code": self.code,
            "field": self.field,
            "detail": self.detail,
            "warnings": list(self.warnings),
            "fields": {name: self.fields[name].value for name in sorted(self.fields)},
            "conflict_ids": [str(c) for c in self.conflict_ids],
            "entity_id": str(self.entity_id) if self.entity_id else None,
        }

    @classmethod
    def read(cls, value: object, path: str) -> Receipt:
        r = ObjectReader(value, path, frozenset(f.name for f in dataclasses.fields(cls)))
        status = r.choice("status", Outcome)
        code = _code(r.raw("code"), r.at("code")) if r.has("code") else None
        if code is None and status in (Outcome.REJECTED, Outcome.CONFLICT):
            raise ProtocolError(
                "sync.missing_field", f"A {status} receipt has a code", r.at("code")
            )
        return cls(
            r.integer("seq", minimum=1, maximum=MAX_SEQ),
            status,
            r.optional_hlc("hlc"),
            code,
            r.optional_text("field", max_len=MAX_DETAIL),
            r.optional_text("detail", max_len=MAX_DETAIL),
            tuple(_code(v, p) for p, v in r.optional_items("warnings", max_items=8)),
            MappingProxyType(
                {
                    name: read_choice(v, p, FieldOutcome)
                    for p, name, v in r.optional_mapping("fields", max_items=64)
                }
            ),
            tuple(
                read_uuid(read_text(v, p, max_len=36), p)
                for p, v in r.optional_items("conflict_ids", max_items=64)
            ),
            r.optional_uuid("entity_id"),
        )


@dataclass(frozen=True)
class PushResponse:
    server_time: HLC  # the device's clock observes it
    last_seq: int  # the highest seq the server has processed for this device
    receipts: tuple[Receipt, ...]
    protocol: int = 1

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "protocol": self.protocol,
            "server_time": str(self.server_time),
            "last_seq": self.last_seq,
            "receipts": [receipt.to_json() for receipt in self.receipts],
        }

    @classmethod
    def from_json(cls, value: object) -> PushResponse:
        r = ObjectReader(value, "", frozenset({"protocol", "server_time", "last_seq", "receipts"}))
        return cls(
            r.hlc("server_time"),
            r.integer("last_seq", minimum=0, maximum=MAX_SEQ),
            tuple(Receipt.read(v, p) for p, v in r.items("receipts", max_items=MAX_BATCH)),
            r.integer("protocol", minimum=1, maximum=1_000),
        )


@dataclass(frozen=True)
class PullRequest:
    device_id: uuid.UUID
    cursors: Mapping[str, str | None]  # scope -> cursor from the last page; None: from scratch
    limit: int = DEFAULT_PULL_LIMIT
    protocol: int = 1
    schema: int = 1
    device_time_ms: int = 0
    outbox: OutboxReport = default(default_factory=OutboxReport)

    def to_json(self) -> dict[str, JSONValue]:
        return {
            **_common_json(self.protocol, self.schema, self.device_id, self.device_time_ms),
            "outbox": self.outbox.to_json(),
            "cursors": {scope: self.cursors[scope] for scope in sorted(self.cursors)},
            "limit": self.limit,
        }

    @classmethod
    def from_json(cls, value: object) -> PullRequest:
        r = ObjectReader(value, "", _COMMON | {"cursors", "limit"})
        protocol, schema, device, device_ms, outbox = _read_common(r)
        cursors: dict[str, str | None] = {}
        for path, scope, cursor in r.mapping("cursors", max_items=MAX_SCOPES):
            Scope.parse(scope, path)
            cursors[scope] = None if cursor is None else read_text(cursor, path, max_len=MAX_CURSOR)
        limit = r.integer("limit", minimum=1, maximum=MAX_PULL_LIMIT)
        return cls(device, MappingProxyType(cursors), limit, protocol, schema, device_ms, outbox)


@dataclass(frozen=True)
class RowUpsert:
    """A row entering or changing in a scope: its whole image at change ``version``."""

    scope: str
    table: Table
    id: uuid.UUID
    version: int
    row: Mapping[str, JSONValue]

    def to_json(self) -> dict[str, JSONValue]:
        head = _change_head(self.scope, self.table, self.id, self.version)
        return {"op": "upsert", **head, "row": dict(self.row)}


@dataclass(frozen=True)
class Tombstone:
    """A row deleted (final) or gone from this scope (it may come back)."""

    scope: str
    table: Table
    id: uuid.UUID
    version: int
    reason: TombstoneReason

    def to_json(self) -> dict[str, JSONValue]:
        head = _change_head(self.scope, self.table, self.id, self.version)
        return {"op": "tombstone", **head, "reason": self.reason.value}


Change = RowUpsert | Tombstone


def read_change(value: object, path: str) -> Change:
    head = frozenset({"op", "scope", "table", "id", "version"})
    peek = ObjectReader(value, path, head | {"row", "reason"})
    op = peek.text("op", max_len=16)
    if op not in ("upsert", "tombstone"):
        raise ProtocolError("sync.invalid_value", "op is upsert or tombstone", peek.at("op"))
    r = ObjectReader(value, path, head | {"row" if op == "upsert" else "reason"})
    scope = r.text("scope", max_len=MAX_CURSOR)
    Scope.parse(scope, r.at("scope"))
    table, ident = r.choice("table", Table), r.uuid("id")
    version = r.integer("version", minimum=1, maximum=MAX_SEQ)
    if op == "tombstone":
        return Tombstone(scope, table, ident, version, r.choice("reason", TombstoneReason))
    row = r.json_object("row")
    if row.get("id") != str(ident):
        raise ProtocolError("sync.invalid_value", "row.id must equal id", r.at("row"))
    return RowUpsert(scope, table, ident, version, MappingProxyType(row))


@dataclass(frozen=True)
class Checkpoint:
    """The end of a pull: per scope, where to resume and what the replica should hash to."""

    cursors: Mapping[str, str]
    checksums: Mapping[str, str]  # scope -> 16 hex digits (sync_protocol.checksum)
    counts: Mapping[str, int]  # scope -> rows in scope

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "cursors": text_map(self.cursors),
            "checksums": text_map(self.checksums),
            "counts": {scope: self.counts[scope] for scope in sorted(self.counts)},
        }

    @classmethod
    def read(cls, value: object, path: str) -> Checkpoint:
        r = ObjectReader(value, path, frozenset({"cursors", "checksums", "counts"}))
        cursors = _scoped(r, "cursors", _cursor)
        checksums = _scoped(r, "checksums", _checksum)
        counts = _scoped(r, "counts", _count)
        if not set(cursors) == set(checksums) == set(counts):
            raise ProtocolError("sync.invalid_value", "The same scopes in all three", path or None)
        return cls(cursors, checksums, counts)


@dataclass(frozen=True)
class PullResponse:
    server_time: HLC
    changes: tuple[Change, ...]
    cursors: Mapping[str, str]  # where the next page starts, per scope
    has_more: bool
    checkpoint: Checkpoint | None  # present exactly on the last page
    protocol: int = 1

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "protocol": self.protocol,
            "server_time": str(self.server_time),
            "changes": [change.to_json() for change in self.changes],
            "cursors": text_map(self.cursors),
            "has_more": self.has_more,
            "checkpoint": self.checkpoint.to_json() if self.checkpoint else None,
        }

    @classmethod
    def from_json(cls, value: object) -> PullResponse:
        keys = frozenset(
            {"protocol", "server_time", "changes", "cursors", "has_more", "checkpoint"}
        )
        r = ObjectReader(value, "", keys)
        has_more = r.boolean("has_more")
        checkpoint = (
            Checkpoint.read(r.raw("checkpoint"), "checkpoint") if r.has("checkpoint") else None
        )
        if has_more == (checkpoint is not None):
            raise ProtocolError(
                "sync.invalid_value", "A checkpoint comes exactly on the last page", "checkpoint"
            )
        return cls(
            r.hlc("server_time"),
            tuple(read_change(v, p) for p, v in r.items("changes", max_items=MAX_PULL_LIMIT)),
            _scoped(r, "cursors", _cursor),
            has_more,
            checkpoint,
            r.integer("protocol", minimum=1, maximum=1_000),
        )


def _common_json(
    protocol: int, schema: int, device: uuid.UUID, device_ms: int
) -> dict[str, JSONValue]:
    return {
        "protocol": protocol,
        "schema": schema,
        "device_id": str(device),
        "device_time_ms": device_ms,
    }


def _read_common(r: ObjectReader) -> tuple[int, int, uuid.UUID, int, OutboxReport]:
    outbox = r.obj("outbox", frozenset({"pending", "oldest"}))
    return (
        r.integer("protocol", minimum=1, maximum=1_000),
        r.integer("schema", minimum=1, maximum=1_000_000),
        r.uuid("device_id"),
        r.integer("device_time_ms", minimum=0, maximum=MAX_WALL_MS),
        OutboxReport.read(outbox),
    )


def _change_head(scope: str, table: Table, ident: uuid.UUID, version: int) -> dict[str, JSONValue]:
    return {"scope": scope, "table": table.value, "id": str(ident), "version": version}


def _cursor(value: object, path: str) -> str:
    return read_text(value, path, max_len=MAX_CURSOR)


def _count(value: object, path: str) -> int:
    return read_int(value, path, minimum=0, maximum=MAX_COUNT)


def _code(value: object, path: str) -> str:
    code = read_text(value, path, max_len=64)
    if CODE.fullmatch(code) is None:
        raise ProtocolError("sync.invalid_value", "Expected a sync.* code", path)
    return code


def _checksum(value: object, path: str) -> str:
    text = read_text(value, path, max_len=16)
    if _CHECKSUM.fullmatch(text) is None:
        raise ProtocolError("sync.invalid_value", "Expected 16 lowercase hex digits", path)
    return text


def _scoped(r: ObjectReader, key: str, read: Callable[[object, str], T]) -> Mapping[str, T]:
    result: dict[str, T] = {}
    for path, scope, value in r.mapping(key, max_items=MAX_SCOPES):
        Scope.parse(scope, path)
        result[scope] = read(value, path)
    return MappingProxyType(result)
