"""Request and response schemas of the conflict inbox, the quarantine and device health.

Response members follow PROTOCOL.md § 6.5–6.7 and § 13 (the records a device
pulls in its ``conflicts`` and ``quarantine`` tables carry the same names),
plus additive members the office needs (``mutation``, ``device_id``,
``technician_id``, ``proposals``, ``retired_at``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from api.http.pagination import PageArgs
from api.http.schemas import Schema, UTCDateTime
from sync_protocol.hlc import ClockVerdict
from sync_protocol.records import ConflictState, QuarantineState, Resolution


def _stored(choices: type[StrEnum], **kw: Any) -> fields.String:
    """A state column: stored as its value, documented as the enumeration."""
    return fields.String(metadata={"enum": [c.value for c in choices]}, **kw)


class ConflictSideSchema(Schema):
    value = fields.Raw(allow_none=True, metadata={"description": "A protocol value (§ 3.2)"})
    hlc = fields.String(allow_none=True)
    party = fields.String(allow_none=True, metadata={"description": "office, assignee, customer"})
    actor_id = fields.UUID(allow_none=True)
    device_id = fields.UUID(allow_none=True)
    seq = fields.Integer(allow_none=True)


class ConflictRecordSchema(Schema):
    id = fields.UUID()
    code = fields.String(metadata={"description": "A conflict-level sync code (§ 14)"})
    table = fields.String(attribute="table_name")
    entity_id = fields.UUID(metadata={"description": "The work order"})
    field = fields.String()
    server = fields.Nested(ConflictSideSchema)
    device = fields.Nested(ConflictSideSchema)
    kept = fields.String(metadata={"description": "server or device: what the order showed"})
    created_at = UTCDateTime()
    state = _stored(ConflictState)
    resolution = _stored(Resolution, allow_none=True)
    resolved_value = fields.Raw(allow_none=True)
    resolved_by = fields.UUID(allow_none=True)
    resolved_at = UTCDateTime(allow_none=True)
    mutation = fields.Dict(
        allow_none=True,
        metadata={"description": "The device's whole mutation: seq, hlc, name, args"},
    )
    device_id = fields.UUID(allow_none=True)
    technician_id = fields.UUID(allow_none=True)


class ConflictItemSchema(ConflictRecordSchema):
    proposals = fields.List(
        fields.Nested(ConflictRecordSchema),
        metadata={
            "description": "Every record of this inbox item (same work order, field and "
            "device), oldest first, this one included"
        },
    )


class ConflictListArgs(PageArgs):
    state = fields.Enum(ConflictState, by_value=True, load_default=ConflictState.OPEN)
    work_order_id = fields.UUID()
    technician_id = fields.UUID()
    device_id = fields.UUID()


class ResolutionSchema(Schema):
    resolution = fields.Enum(Resolution, by_value=True, required=True)
    value = fields.Raw(
        allow_none=True,
        metadata={"description": "custom only: the field's new value, as a protocol value"},
    )

    @validates_schema
    def _value_only_for_custom(self, data: dict[str, Any], **_: Any) -> None:
        custom = data["resolution"] is Resolution.CUSTOM
        if custom and "value" not in data:
            raise ValidationError("Missing data for required field.", "value")
        if not custom and "value" in data:
            raise ValidationError("Unknown field.", "value")


class QuarantineEntrySchema(Schema):
    id = fields.UUID()
    device_id = fields.UUID()
    technician_id = fields.UUID(allow_none=True)
    work_order_id = fields.UUID(allow_none=True)
    mutation = fields.Dict(metadata={"description": "seq, hlc, name, args, as the device sent"})
    code = fields.String()
    field = fields.String(allow_none=True)
    detail = fields.String(allow_none=True)
    quarantined_at = UTCDateTime()
    state = _stored(QuarantineState)
    settled_by = fields.UUID(allow_none=True)
    settled_at = UTCDateTime(allow_none=True)


class QuarantineListArgs(PageArgs):
    state = fields.Enum(QuarantineState, by_value=True)
    device_id = fields.UUID()
    technician_id = fields.UUID()


class DeviceHealthSchema(Schema):
    device_id = fields.UUID()
    technician_id = fields.UUID(allow_none=True)
    user_id = fields.UUID(allow_none=True)
    last_push_at = UTCDateTime(allow_none=True)
    last_pull_at = UTCDateTime(allow_none=True)
    last_seq = fields.Integer()
    pending = fields.Integer(metadata={"description": "Outbox size the device last reported"})
    oldest_pending = fields.String(allow_none=True, metadata={"description": "An HLC"})
    skew_ms = fields.Integer(metadata={"description": "Device minus server clock (§ 7.3)"})
    clock = fields.Enum(ClockVerdict, by_value=True)
    clamped = fields.Integer()
    quarantined = fields.Integer(metadata={"description": "Parked entries"})
    open_conflicts = fields.Integer()
    pending_blobs = fields.Integer(metadata={"description": "Photos whose bytes have not come"})
    protocol = fields.Integer()
    schema = fields.Integer()
    retired_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()


class DeviceListArgs(PageArgs):
    technician_id = fields.UUID()
