"""The mutation catalogue: every change a device may push, with its argument shape.

A mutation on the wire is ``{seq, hlc, name, args}`` (:class:`~sync_protocol.messages.Mutation`);
this module turns ``(name, args)`` into one of the typed, frozen argument classes
below, or a :class:`~sync_protocol.errors.ProtocolError` whose field path starts at
``args``. An unknown name is ``sync.unknown_mutation``: the mutation is rejected
and quarantined, never the batch, so an app newer than its server cannot wedge
its own queue. Client-generated IDs must be UUIDv7 (they are never remapped).
Shapes and limits are tabled in PROTOCOL.md § 9.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import ClassVar, TypeAlias

from sync_protocol.entities import (
    EvidenceKind,
    NoteVisibility,
    PhotoType,
    Symbology,
    TimeEntryKind,
)
from sync_protocol.errors import JSONValue, ProtocolError
from sync_protocol.hlc import HLC
from sync_protocol.merge import EvidenceItem, FieldWrite
from sync_protocol.ownership import (
    CREATE_FIELDS,
    MAX_TEXT,
    PATCHABLE_FIELDS,
    field_spec,
)
from sync_protocol.wire import ObjectReader, format_timestamp
from sync_protocol.workorder_status import Action, Party, Status, field_issues

MAX_REASON = 1_000
MAX_SHORT = 64
MAX_UNIT = 16
MAX_ASSETS = 100
MAX_PATCH_FIELDS = 16
MAX_PHOTO_BYTES = 25 * 1024 * 1024
MAX_CODE = 256  # a scanned code, as an asset's barcode_value holds it

_QUANTITY = re.compile(r"[0-9]{1,9}(\.[0-9]{1,6})?", re.ASCII)
_READING = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,6})?", re.ASCII)
_SHA256 = re.compile(r"[0-9a-f]{64}", re.ASCII)


class MutationName(StrEnum):
    CREATE_WORK_ORDER = "create_work_order"
    TRANSITION_WORK_ORDER = "transition_work_order"
    PATCH_WORK_ORDER = "patch_work_order"
    ADD_NOTE = "add_note"
    RECORD_PART = "record_part"
    RECORD_READING = "record_reading"
    ADD_TIME_ENTRY = "add_time_entry"
    ATTACH_PHOTO = "attach_photo"
    VOID_EVIDENCE = "void_evidence"
    SIGN_OFF = "sign_off"
    SCAN_CODE = "scan_code"
    ANSWER_OFFER = "answer_offer"


class SignOffOutcome(StrEnum):
    SIGNED = "signed"
    REFUSED = "refused"


MAX_CONSENT = 4_000
MAX_NAME = 200


def _ts(value: datetime | None) -> str | None:
    return format_timestamp(value) if value else None


def _id(value: uuid.UUID | None) -> str | None:
    return str(value) if value else None


@dataclass(frozen=True)
class CreateWorkOrder:
    name: ClassVar[MutationName] = MutationName.CREATE_WORK_ORDER
    id: uuid.UUID
    fields: Mapping[str, JSONValue]  # canonical values of CREATE_FIELDS given
    asset_ids: tuple[uuid.UUID, ...] = ()

    @property
    def work_order_id(self) -> uuid.UUID:
        return self.id

    def to_json(self) -> dict[str, JSONValue]:
        fields = {name: self.fields.get(name) for name in sorted(CREATE_FIELDS)}
        return {"id": str(self.id), **fields, "asset_ids": [str(a) for a in self.asset_ids]}


@dataclass(frozen=True)
class TransitionWorkOrder:
    name: ClassVar[MutationName] = MutationName.TRANSITION_WORK_ORDER
    work_order_id: uuid.UUID
    action: Action
    base_status: Status  # the status the device showed when the technician acted
    reason: str | None = None
    resolution: str | None = None
    assignee_id: uuid.UUID | None = None

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "work_order_id": str(self.work_order_id),
            "action": self.action.value,
            "base_status": self.base_status.value,
            "reason": self.reason,
            "resolution": self.resolution,
            "assignee_id": _id(self.assignee_id),
        }


@dataclass(frozen=True)
class PatchWorkOrder:
    name: ClassVar[MutationName] = MutationName.PATCH_WORK_ORDER
    work_order_id: uuid.UUID
    fields: Mapping[str, JSONValue]  # field -> canonical value

    def writes(self, hlc: HLC, party: Party) -> list[FieldWrite]:
        return [FieldWrite(name, self.fields[name], hlc, party) for name in sorted(self.fields)]

    def to_json(self) -> dict[str, JSONValue]:
        return {"work_order_id": str(self.work_order_id), "fields": dict(self.fields)}


@dataclass(frozen=True)
class AddNote:
    name: ClassVar[MutationName] = MutationName.ADD_NOTE
    kind: ClassVar[EvidenceKind] = EvidenceKind.NOTE
    id: uuid.UUID
    work_order_id: uuid.UUID
    body: str
    visibility: NoteVisibility = NoteVisibility.INTERNAL

    def to_json(self) -> dict[str, JSONValue]:
        return {**_refs(self), "body": self.body, "visibility": self.visibility.value}


@dataclass(frozen=True)
class RecordPart:
    name: ClassVar[MutationName] = MutationName.RECORD_PART
    kind: ClassVar[EvidenceKind] = EvidenceKind.PART
    id: uuid.UUID
    work_order_id: uuid.UUID
    description: str
    quantity: str  # a positive decimal string, e.g. "2.5"
    unit: str
    part_number: str | None = None
    asset_id: uuid.UUID | None = None

    def to_json(self) -> dict[str, JSONValue]:
        return {
            **_refs(self),
            "description": self.description,
            "quantity": self.quantity,
            "unit": self.unit,
            "part_number": self.part_number,
            "asset_id": _id(self.asset_id),
        }


@dataclass(frozen=True)
class RecordReading:
    name: ClassVar[MutationName] = MutationName.RECORD_READING
    kind: ClassVar[EvidenceKind] = EvidenceKind.READING
    id: uuid.UUID
    work_order_id: uuid.UUID
    metric: str  # what was measured, e.g. "pressure"
    value: str  # a signed decimal string, e.g. "-3.25"
    unit: str
    taken_at: datetime
    asset_id: uuid.UUID | None = None

    def to_json(self) -> dict[str, JSONValue]:
        return {
            **_refs(self),
            "metric": self.metric,
            "value": self.value,
            "unit": self.unit,
            "taken_at": format_timestamp(self.taken_at),
            "asset_id": _id(self.asset_id),
        }


@dataclass(frozen=True)
class AddTimeEntry:
    name: ClassVar[MutationName] = MutationName.ADD_TIME_ENTRY
    kind: ClassVar[EvidenceKind] = EvidenceKind.TIME_ENTRY
    id: uuid.UUID
    work_order_id: uuid.UUID
    activity: TimeEntryKind
    started_at: datetime
    ended_at: datetime
    note: str | None = None

    def to_json(self) -> dict[str, JSONValue]:
        return {
            **_refs(self),
            "activity": self.activity.value,
            "started_at": format_timestamp(self.started_at),
            "ended_at": format_timestamp(self.ended_at),
            "note": self.note,
        }


@dataclass(frozen=True)
class AttachPhoto:
    name: ClassVar[MutationName] = MutationName.ATTACH_PHOTO
    kind: ClassVar[EvidenceKind] = EvidenceKind.PHOTO
    id: uuid.UUID
    work_order_id: uuid.UUID
    sha256: str  # lowercase hex of the bytes, which travel separately
    content_type: PhotoType
    size: int
    caption: str | None = None
    taken_at: datetime | None = None
    asset_id: uuid.UUID | None = None
    note_id: uuid.UUID | None = None  # a note of the same order the photo illustrates

    def to_json(self) -> dict[str, JSONValue]:
        args: dict[str, JSONValue] = {
            **_refs(self),
            "sha256": self.sha256,
            "content_type": self.content_type.value,
            "size": self.size,
            "caption": self.caption,
            "taken_at": _ts(self.taken_at),
            "asset_id": _id(self.asset_id),
        }
        # Only when set: the server keys a retried mutation by the digest of these args,
        # and photos recorded before note_id existed must stay duplicates, not "reused".
        if self.note_id is not None:
            args["note_id"] = str(self.note_id)
        return args


@dataclass(frozen=True)
class VoidEvidence:
    name: ClassVar[MutationName] = MutationName.VOID_EVIDENCE
    evidence: EvidenceKind
    id: uuid.UUID
    work_order_id: uuid.UUID
    reason: str

    def to_json(self) -> dict[str, JSONValue]:
        return {**_refs(self), "evidence": self.evidence.value, "reason": self.reason}


@dataclass(frozen=True)
class Position:
    """Where the device was when the customer signed (WGS84; accuracy in metres)."""

    lat: float
    lon: float
    accuracy_m: float | None = None

    def to_json(self) -> dict[str, JSONValue]:
        return {"lat": self.lat, "lon": self.lon, "accuracy_m": self.accuracy_m}


@dataclass(frozen=True)
class SignOff:
    """The customer signed (``drawing``, ``consent_text``) or refused (``refusal_reason``).

    When it happened is the mutation's HLC, as for evidence (§ 7.3). The drawing
    is free-form JSON here; its strokes are checked by the server's
    ``signatures.strokes`` (``sync.invalid_signature``), which the client SDK
    may run too. Immutable once recorded (PROTOCOL.md § 8.7).
    """

    name: ClassVar[MutationName] = MutationName.SIGN_OFF
    id: uuid.UUID
    work_order_id: uuid.UUID
    outcome: SignOffOutcome
    signer_name: str
    signer_role: str | None = None
    consent_text: str | None = None
    refusal_reason: str | None = None
    drawing: Mapping[str, JSONValue] | None = None
    position: Position | None = None

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "id": str(self.id),
            "work_order_id": str(self.work_order_id),
            "outcome": self.outcome.value,
            "signer_name": self.signer_name,
            "signer_role": self.signer_role,
            "consent_text": self.consent_text,
            "refusal_reason": self.refusal_reason,
            "drawing": dict(self.drawing) if self.drawing is not None else None,
            "position": self.position.to_json() if self.position else None,
        }


@dataclass(frozen=True)
class ScanCode:
    """A code scanned at a job: the server names the asset (receipt ``entity_id``), or
    makes a provisional one with ``id`` at the order's site when the code is unknown."""

    name: ClassVar[MutationName] = MutationName.SCAN_CODE
    id: uuid.UUID
    work_order_id: uuid.UUID
    code: str
    symbology: Symbology | None = None

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "id": str(self.id),
            "work_order_id": str(self.work_order_id),
            "code": self.code,
            "symbology": self.symbology.value if self.symbology else None,
        }


class OfferAnswer(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"


@dataclass(frozen=True)
class AnswerOffer:
    """A technician's answer to a job offered to them (PROTOCOL.md § 8.9): an accept
    assigns them the order; a decline (with a reason) passes it to the next candidate."""

    name: ClassVar[MutationName] = MutationName.ANSWER_OFFER
    offer_id: uuid.UUID
    work_order_id: uuid.UUID
    answer: OfferAnswer
    reason: str | None = None

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "offer_id": str(self.offer_id),
            "work_order_id": str(self.work_order_id),
            "answer": self.answer.value,
            "reason": self.reason,
        }


Evidence: TypeAlias = AddNote | RecordPart | RecordReading | AddTimeEntry | AttachPhoto
MutationArgs: TypeAlias = (
    CreateWorkOrder
    | TransitionWorkOrder
    | PatchWorkOrder
    | Evidence
    | VoidEvidence
    | SignOff
    | ScanCode
    | AnswerOffer
)


def parse_args(name: str, args: object) -> MutationArgs:
    """Typed arguments for mutation ``name``; errors carry paths under ``args``."""
    try:
        known = MutationName(name)
    except ValueError:
        raise ProtocolError("sync.unknown_mutation", f"No mutation {name!r}", "name") from None
    reader = ObjectReader(args, "args", _KEYS[known])
    return _PARSERS[known](reader)


def evidence_item(
    args: Evidence, *, author_id: uuid.UUID | None, party: Party, hlc: HLC
) -> EvidenceItem:
    """The evidence set member an evidence mutation adds (its content is its arguments)."""
    content = args.to_json()
    return EvidenceItem(
        args.kind, args.id, args.work_order_id, author_id, party, hlc, MappingProxyType(content)
    )


def _refs(args: Evidence | VoidEvidence) -> dict[str, JSONValue]:
    return {"id": str(args.id), "work_order_id": str(args.work_order_id)}


def _create(r: ObjectReader) -> CreateWorkOrder:
    fields: dict[str, JSONValue] = {}
    for name in sorted(CREATE_FIELDS):
        if r.has(name):
            fields[name] = field_spec(name).read(r.raw(name), r.at(name))
    for name in ("title", "customer_id", "site_id"):
        if name not in fields:
            raise ProtocolError("sync.missing_field", f"{name} is required", r.at(name))
    fields.setdefault("priority", "medium")
    assets = r.uuid_list("asset_ids", max_items=MAX_ASSETS) if r.has("asset_ids") else ()
    return CreateWorkOrder(r.uuid("id", v7=True), MappingProxyType(fields), assets)


def _transition(r: ObjectReader) -> TransitionWorkOrder:
    action = r.choice("action", Action)
    given = {key: r.raw(key, optional=True) for key in ("reason", "resolution", "assignee_id")}
    for issue in field_issues(action, given):
        code = "sync.missing_field" if issue.code == "required" else "sync.invalid_value"
        raise ProtocolError(code, issue.message, r.at(issue.field))
    return TransitionWorkOrder(
        r.uuid("work_order_id"),
        action,
        r.choice("base_status", Status),
        r.optional_text("reason", max_len=MAX_REASON),
        r.optional_text("resolution", max_len=MAX_TEXT),
        r.optional_uuid("assignee_id"),
    )


def _patch(r: ObjectReader) -> PatchWorkOrder:
    fields: dict[str, JSONValue] = {}
    for path, name, value in r.mapping("fields", max_items=MAX_PATCH_FIELDS):
        spec = field_spec(name, path)
        if name not in PATCHABLE_FIELDS:
            raise ProtocolError("sync.field_read_only", f"{name} cannot be patched", path)
        fields[name] = spec.read(value, path)
    if not fields:
        raise ProtocolError("sync.invalid_value", "Patch at least one field", r.at("fields"))
    return PatchWorkOrder(r.uuid("work_order_id"), MappingProxyType(fields))


def _note(r: ObjectReader) -> AddNote:
    visibility = r.choice("visibility", NoteVisibility) if r.has("visibility") else None
    return AddNote(
        r.uuid("id", v7=True),
        r.uuid("work_order_id"),
        r.text("body", max_len=MAX_TEXT, min_len=1),
        visibility or NoteVisibility.INTERNAL,
    )


def _part(r: ObjectReader) -> RecordPart:
    return RecordPart(
        r.uuid("id", v7=True),
        r.uuid("work_order_id"),
        r.text("description", max_len=500, min_len=1),
        _decimal(r, "quantity", _QUANTITY, positive=True),
        r.text("unit", max_len=MAX_UNIT, min_len=1),
        r.optional_text("part_number", max_len=MAX_SHORT),
        r.optional_uuid("asset_id"),
    )


def _reading(r: ObjectReader) -> RecordReading:
    return RecordReading(
        r.uuid("id", v7=True),
        r.uuid("work_order_id"),
        r.text("metric", max_len=MAX_SHORT, min_len=1),
        _decimal(r, "value", _READING, positive=False),
        r.text("unit", max_len=MAX_UNIT),
        r.timestamp("taken_at"),
        r.optional_uuid("asset_id"),
    )


def _time_entry(r: ObjectReader) -> AddTimeEntry:
    started, ended = r.timestamp("started_at"), r.timestamp("ended_at")
    if ended <= started:
        raise ProtocolError("sync.invalid_value", "Must be after started_at", r.at("ended_at"))
    return AddTimeEntry(
        r.uuid("id", v7=True),
        r.uuid("work_order_id"),
        r.choice("activity", TimeEntryKind),
        started,
        ended,
        r.optional_text("note", max_len=MAX_REASON),
    )


def _photo(r: ObjectReader) -> AttachPhoto:
    digest = r.text("sha256", max_len=64)
    if _SHA256.fullmatch(digest) is None:
        raise ProtocolError("sync.invalid_value", "64 lowercase hex digits", r.at("sha256"))
    return AttachPhoto(
        r.uuid("id", v7=True),
        r.uuid("work_order_id"),
        digest,
        r.choice("content_type", PhotoType),
        r.integer("size", minimum=1, maximum=MAX_PHOTO_BYTES),
        r.optional_text("caption", max_len=500),
        r.optional_timestamp("taken_at"),
        r.optional_uuid("asset_id"),
        r.optional_uuid("note_id"),
    )


def _void(r: ObjectReader) -> VoidEvidence:
    return VoidEvidence(
        r.choice("evidence", EvidenceKind),
        r.uuid("id"),
        r.uuid("work_order_id"),
        r.text("reason", max_len=MAX_REASON, min_len=1),
    )


def _answer(r: ObjectReader) -> AnswerOffer:
    answer = r.choice("answer", OfferAnswer)
    reason: str | None = (
        r.text("reason", max_len=MAX_REASON, min_len=1)
        if answer is OfferAnswer.DECLINE
        else r.optional_text("reason", max_len=MAX_REASON)
    )
    return AnswerOffer(r.uuid("offer_id"), r.uuid("work_order_id"), answer, reason)


def _scan(r: ObjectReader) -> ScanCode:
    return ScanCode(
        r.uuid("id", v7=True),
        r.uuid("work_order_id"),
        r.text("code", max_len=MAX_CODE, min_len=1),
        r.choice("symbology", Symbology) if r.has("symbology") else None,
    )


def _sign_off(r: ObjectReader) -> SignOff:
    outcome = r.choice("outcome", SignOffOutcome)
    signed = outcome is SignOffOutcome.SIGNED
    for key, wanted in (
        ("drawing", signed),
        ("consent_text", signed),
        ("refusal_reason", not signed),
    ):
        if wanted and not r.has(key):
            raise ProtocolError(
                "sync.missing_field", f"{key} is required when {outcome}", r.at(key)
            )
        if not wanted and r.has(key):
            raise ProtocolError("sync.invalid_value", f"Not allowed when {outcome}", r.at(key))
    return SignOff(
        r.uuid("id", v7=True),
        r.uuid("work_order_id"),
        outcome,
        r.text("signer_name", max_len=MAX_NAME, min_len=1),
        r.optional_text("signer_role", max_len=MAX_SHORT),
        r.optional_text("consent_text", max_len=MAX_CONSENT, min_len=1),
        r.optional_text("refusal_reason", max_len=MAX_REASON, min_len=1),
        MappingProxyType(r.json_object("drawing")) if signed else None,
        _position(r.obj("position", _POSITION_KEYS)) if r.has("position") else None,
    )


_POSITION_KEYS = frozenset({"lat", "lon", "accuracy_m"})


def _position(r: ObjectReader) -> Position:
    lat = _number(r, "lat", -90, 90)
    lon = _number(r, "lon", -180, 180)
    accuracy = _number(r, "accuracy_m", 0, 100_000) if r.has("accuracy_m") else None
    return Position(lat, lon, accuracy)


def _number(r: ObjectReader, key: str, low: float, high: float) -> float:
    value = r.raw(key)
    if type(value) not in (int, float):
        raise ProtocolError("sync.wrong_type", "Expected a number", r.at(key))
    assert isinstance(value, int | float)
    if not low <= value <= high:  # NaN fails both comparisons
        raise ProtocolError("sync.invalid_value", f"Expected {low} to {high}", r.at(key))
    return float(value)


def _decimal(r: ObjectReader, key: str, pattern: re.Pattern[str], *, positive: bool) -> str:
    text = r.text(key, max_len=24)
    if pattern.fullmatch(text) is None or (positive and not text.strip("0.")):
        kind = "a positive decimal" if positive else "a decimal"
        raise ProtocolError("sync.invalid_value", f'Expected {kind} string, e.g. "2.5"', r.at(key))
    return text


_KEYS: Mapping[MutationName, frozenset[str]] = {
    cls.name: frozenset(f.name for f in dataclasses.fields(cls))
    for cls in (
        TransitionWorkOrder,
        PatchWorkOrder,
        AddNote,
        RecordPart,
        RecordReading,
        AddTimeEntry,
        AttachPhoto,
        VoidEvidence,
        SignOff,
        ScanCode,
        AnswerOffer,
    )
} | {MutationName.CREATE_WORK_ORDER: frozenset({"id", "asset_ids", *CREATE_FIELDS})}
_PARSERS: Mapping[MutationName, Callable[[ObjectReader], MutationArgs]] = {
    MutationName.CREATE_WORK_ORDER: _create,
    MutationName.TRANSITION_WORK_ORDER: _transition,
    MutationName.PATCH_WORK_ORDER: _patch,
    MutationName.ADD_NOTE: _note,
    MutationName.RECORD_PART: _part,
    MutationName.RECORD_READING: _reading,
    MutationName.ADD_TIME_ENTRY: _time_entry,
    MutationName.ATTACH_PHOTO: _photo,
    MutationName.VOID_EVIDENCE: _void,
    MutationName.SIGN_OFF: _sign_off,
    MutationName.SCAN_CODE: _scan,
    MutationName.ANSWER_OFFER: _answer,
}
