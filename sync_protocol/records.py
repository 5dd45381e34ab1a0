"""The records sync leaves for people: conflicts, quarantined mutations, device health, resets.

A :class:`ConflictRecord` keeps both sides of a clash (value, HLC, party, actor,
and the device and seq it came from) until a dispatcher resolves it; a
:class:`QuarantineEntry` parks a mutation that can never apply, with its
reason, without blocking the ones after it; :class:`DeviceHealth` is what a
dispatcher reads about each device; :class:`ResetRequired` tells a client to
re-prime, and whether it may push its outbox first. Shapes: PROTOCOL.md § 6.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sync_protocol.entities import Table
from sync_protocol.errors import CATALOGUE, JSONValue, Level, ProtocolError
from sync_protocol.hlc import HLC, ClockVerdict
from sync_protocol.messages import CODE, MAX_COUNT, MAX_DETAIL, MAX_SEQ, Mutation
from sync_protocol.scopes import Scope
from sync_protocol.status_merge import Kept
from sync_protocol.wire import ObjectReader, check_json, format_timestamp, read_text
from sync_protocol.workorder_status import Party


class ConflictState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Resolution(StrEnum):
    KEEP_SERVER = "keep_server"  # what the order shows stays
    TAKE_DEVICE = "take_device"  # the device's value is applied as an office write
    CUSTOM = "custom"  # the dispatcher typed a third value


class QuarantineState(StrEnum):
    PARKED = "parked"
    DISCARDED = "discarded"  # a dispatcher or the technician acknowledged it
    REAPPLIED = "reapplied"  # a dispatcher applied its intent by hand


@dataclass(frozen=True)
class ConflictSide:
    value: JSONValue
    hlc: HLC | None = None
    party: Party | None = None
    actor_id: uuid.UUID | None = None
    device_id: uuid.UUID | None = None
    seq: int | None = None

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "value": self.value,
            "hlc": _str(self.hlc),
            "party": self.party.value if self.party else None,
            "actor_id": _str(self.actor_id),
            "device_id": _str(self.device_id),
            "seq": self.seq,
        }

    @classmethod
    def read(cls, r: ObjectReader) -> ConflictSide:
        return cls(
            check_json(r.raw("value", optional=True), r.at("value")),
            r.optional_hlc("hlc"),
            r.choice("party", Party) if r.has("party") else None,
            r.optional_uuid("actor_id"),
            r.optional_uuid("device_id"),
            r.integer("seq", minimum=1, maximum=MAX_SEQ) if r.has("seq") else None,
        )


_SIDE = frozenset(f.name for f in dataclasses.fields(ConflictSide))


@dataclass(frozen=True)
class ConflictRecord:
    id: uuid.UUID
    code: str  # a conflict-level code: why the two sides clash
    table: Table
    entity_id: uuid.UUID
    field: str
    server: ConflictSide
    device: ConflictSide
    kept: Kept
    created_at: datetime
    state: ConflictState = ConflictState.OPEN
    resolution: Resolution | None = None
    resolved_value: JSONValue = None
    resolved_by: uuid.UUID | None = None
    resolved_at: datetime | None = None

    def __post_init__(self) -> None:
        info = CATALOGUE.get(self.code)
        if info is None or info.level is not Level.CONFLICT:
            raise ProtocolError("sync.invalid_value", f"{self.code} is not a conflict code", "code")

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "id": str(self.id),
            "code": self.code,
            "table": self.table.value,
            "entity_id": str(self.entity_id),
            "field": self.field,
            "server": self.server.to_json(),
            "device": self.device.to_json(),
            "kept": self.kept.value,
            "created_at": format_timestamp(self.created_at),
            "state": self.state.value,
            "resolution": self.resolution.value if self.resolution else None,
            "resolved_value": self.resolved_value,
            "resolved_by": _str(self.resolved_by),
            "resolved_at": format_timestamp(self.resolved_at) if self.resolved_at else None,
        }

    @classmethod
    def from_json(cls, value: object, path: str = "") -> ConflictRecord:
        r = ObjectReader(value, path, frozenset(f.name for f in dataclasses.fields(cls)))
        code = r.text("code", max_len=64)
        if CODE.fullmatch(code) is None:
            raise ProtocolError("sync.invalid_value", "Expected a sync.* code", r.at("code"))
        return cls(
            r.uuid("id"),
            code,
            r.choice("table", Table),
            r.uuid("entity_id"),
            r.text("field", max_len=64, min_len=1),
            ConflictSide.read(r.obj("server", _SIDE)),
            ConflictSide.read(r.obj("device", _SIDE)),
            r.choice("kept", Kept),
            r.timestamp("created_at"),
            r.choice("state", ConflictState),
            r.choice("resolution", Resolution) if r.has("resolution") else None,
            check_json(r.raw("resolved_value", optional=True), r.at("resolved_value")),
            r.optional_uuid("resolved_by"),
            r.optional_timestamp("resolved_at"),
        )


@dataclass(frozen=True)
class QuarantineEntry:
    id: uuid.UUID
    device_id: uuid.UUID
    mutation: Mutation
    code: str
    detail: str
    quarantined_at: datetime
    field: str | None = None
    state: QuarantineState = QuarantineState.PARKED

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "id": str(self.id),
            "device_id": str(self.device_id),
            "mutation": self.mutation.to_json(),
            "code": self.code,
            "detail": self.detail,
            "quarantined_at": format_timestamp(self.quarantined_at),
            "field": self.field,
            "state": self.state.value,
        }

    @classmethod
    def from_json(cls, value: object, path: str = "") -> QuarantineEntry:
        r = ObjectReader(value, path, frozenset(f.name for f in dataclasses.fields(cls)))
        return cls(
            r.uuid("id"),
            r.uuid("device_id"),
            Mutation.read(r.raw("mutation"), r.at("mutation")),
            r.text("code", max_len=64),
            r.text("detail", max_len=MAX_DETAIL),
            r.timestamp("quarantined_at"),
            r.optional_text("field", max_len=MAX_DETAIL),
            r.choice("state", QuarantineState),
        )


@dataclass(frozen=True)
class DeviceHealth:
    """One device's sync as a dispatcher sees it."""

    device_id: uuid.UUID
    technician_id: uuid.UUID | None
    last_push_at: datetime | None
    last_pull_at: datetime | None
    last_seq: int  # the highest seq processed
    pending: int  # outbox size the device last reported
    oldest_pending: HLC | None  # the HLC of its oldest unsynced mutation
    skew_ms: int
    clock: ClockVerdict
    clamped: int  # mutations whose HLC was clamped
    quarantined: int  # parked entries
    open_conflicts: int
    pending_blobs: int  # photos referenced whose bytes have not arrived
    protocol: int
    schema: int

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "device_id": str(self.device_id),
            "technician_id": _str(self.technician_id),
            "last_push_at": format_timestamp(self.last_push_at) if self.last_push_at else None,
            "last_pull_at": format_timestamp(self.last_pull_at) if self.last_pull_at else None,
            "last_seq": self.last_seq,
            "pending": self.pending,
            "oldest_pending": _str(self.oldest_pending),
            "skew_ms": self.skew_ms,
            "clock": self.clock.value,
            "clamped": self.clamped,
            "quarantined": self.quarantined,
            "open_conflicts": self.open_conflicts,
            "pending_blobs": self.pending_blobs,
            "protocol": self.protocol,
            "schema": self.schema,
        }

    @classmethod
    def from_json(cls, value: object, path: str = "") -> DeviceHealth:
        r = ObjectReader(value, path, frozenset(f.name for f in dataclasses.fields(cls)))

        def count(key: str) -> int:
            return r.integer(key, minimum=0, maximum=MAX_SEQ)

        return cls(
            r.uuid("device_id"),
            r.optional_uuid("technician_id"),
            r.optional_timestamp("last_push_at"),
            r.optional_timestamp("last_pull_at"),
            count("last_seq"),
            count("pending"),
            r.optional_hlc("oldest_pending"),
            r.integer("skew_ms", minimum=-MAX_SEQ, maximum=MAX_SEQ),
            r.choice("clock", ClockVerdict),
            count("clamped"),
            count("quarantined"),
            count("open_conflicts"),
            count("pending_blobs"),
            r.integer("protocol", minimum=1, maximum=1_000),
            r.integer("schema", minimum=1, maximum=MAX_COUNT),
        )


@dataclass(frozen=True)
class ResetRequired:
    """Re-prime ``scopes`` (all when empty), after pushing or exporting the outbox."""

    reason: str  # a reset-level code
    detail: str
    push_first: bool  # the server still takes this client's pushes: push, then reset
    min_schema: int
    scopes: tuple[str, ...] = ()
    protocol: int = 1

    def __post_init__(self) -> None:
        info = CATALOGUE.get(self.reason)
        if info is None or info.level is not Level.RESET:
            raise ProtocolError("sync.invalid_value", f"{self.reason} is not a reset reason")

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "protocol": self.protocol,
            "reset_required": {
                "reason": self.reason,
                "title": CATALOGUE[self.reason].en,
                "detail": self.detail,
                "push_first": self.push_first,
                "min_schema": self.min_schema,
                "scopes": list(self.scopes),
            },
        }

    @classmethod
    def from_json(cls, value: object) -> ResetRequired:
        outer = ObjectReader(value, "", frozenset({"protocol", "reset_required"}))
        keys = frozenset({"reason", "title", "detail", "push_first", "min_schema", "scopes"})
        r = outer.obj("reset_required", keys)
        reason = r.text("reason", max_len=64)
        if CATALOGUE.get(reason) is None or CATALOGUE[reason].level is not Level.RESET:
            raise ProtocolError("sync.invalid_value", "Unknown reset reason", r.at("reason"))
        return cls(
            reason,
            r.text("detail", max_len=MAX_DETAIL),
            r.boolean("push_first"),
            r.integer("min_schema", minimum=1, maximum=MAX_COUNT),
            _scopes(r),
            outer.integer("protocol", minimum=1, maximum=1_000),
        )


def _scopes(r: ObjectReader) -> tuple[str, ...]:
    result: list[str] = []
    for path, item in r.optional_items("scopes", max_items=16):
        text = read_text(item, path, max_len=128)
        Scope.parse(text, path)
        result.append(text)
    return tuple(result)


def _str(value: object) -> str | None:
    return None if value is None else str(value)
