"""Team request/response schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from api.http.pagination import PageArgs
from api.http.schemas import Schema, UTCDateTime, text


class TeamSchema(Schema):
    id = fields.UUID(dump_only=True)
    name = fields.String()
    name_en = fields.String(allow_none=True)
    supervisor_user_id = fields.UUID(allow_none=True)
    region = fields.String(allow_none=True)
    version = fields.Integer(dump_only=True)
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)


class TeamUpdateSchema(Schema):
    name = text(120, allow_none=False)
    name_en = text(120)
    supervisor_user_id = fields.UUID(
        allow_none=True,
        metadata={"description": "An active admin, dispatcher or technician of this tenant"},
    )
    region = text(120)


class TeamCreateSchema(TeamUpdateSchema):
    id = fields.UUID(metadata={"description": "Client-generated UUIDv7 (optional)"})
    name = text(120, required=True)


class TeamListArgs(PageArgs):
    q = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Name, English name or region contains"},
    )
