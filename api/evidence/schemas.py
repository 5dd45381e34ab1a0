"""Evidence as the REST API shows it: what was recorded, by whom, and whether it was voided."""

from __future__ import annotations

from marshmallow import fields

from api.http.schemas import Schema, UTCDateTime
from api.workorders.states import NoteVisibility

_VISIBILITY_DOC = "`internal` (staff only) or `customer` (also the customer's contacts)"


class EvidenceSchema(Schema):
    id = fields.UUID()
    work_order_id = fields.UUID()
    visibility = fields.String(metadata={"description": _VISIBILITY_DOC})
    author_kind = fields.String()
    author_id = fields.UUID(allow_none=True)
    device_id = fields.UUID(allow_none=True)
    occurred_at = UTCDateTime(
        metadata={"description": "When it was recorded: the device's time for synced evidence"}
    )
    created_at = UTCDateTime(metadata={"description": "When the server stored it"})
    voided_at = UTCDateTime(allow_none=True)
    voided_by = fields.UUID(allow_none=True)
    void_reason = fields.String(allow_none=True)


class PhotoSchema(EvidenceSchema):
    asset_id = fields.UUID(allow_none=True)
    sha256 = fields.String()
    content_type = fields.String()
    size = fields.Integer(metadata={"description": "bytes, as declared by the device"})
    caption = fields.String(allow_none=True)
    taken_at = UTCDateTime(allow_none=True)
    state = fields.String(
        metadata={"description": "`pending` (bytes not here yet), `ready` or `invalid`"}
    )


class PartSchema(EvidenceSchema):
    asset_id = fields.UUID(allow_none=True)
    description = fields.String()
    quantity = fields.String(metadata={"description": "a decimal, as a string"})
    unit = fields.String()
    part_number = fields.String(allow_none=True)


class ReadingSchema(EvidenceSchema):
    asset_id = fields.UUID(allow_none=True)
    metric = fields.String()
    value = fields.String(metadata={"description": "a decimal, as a string"})
    unit = fields.String()
    taken_at = UTCDateTime()


class TimeEntrySchema(EvidenceSchema):
    activity = fields.String()
    started_at = UTCDateTime()
    ended_at = UTCDateTime()
    note = fields.String(allow_none=True)


class VisibilitySchema(Schema):
    visibility = fields.Enum(
        NoteVisibility, by_value=True, required=True, metadata={"description": _VISIBILITY_DOC}
    )
