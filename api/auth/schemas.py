"""Auth request/response schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from api.auth.permissions import GRANTABLE_SCOPES, Role
from api.http.schemas import Schema, UTCDateTime, text


class LoginSchema(Schema):
    tenant = fields.String(required=True, validate=validate.Length(min=1, max=63))
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=256)
    )
    device_id = text(
        128, metadata={"description": "Stable id of a technician's device: one session per device"}
    )


class RefreshSchema(Schema):
    refresh_token = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=256)
    )


class MeSchema(Schema):
    id = fields.UUID()
    tenant_id = fields.UUID()
    email = fields.String()
    name = fields.String()
    role = fields.Enum(Role, by_value=True)
    locale = fields.String()
    technician_id = fields.UUID(allow_none=True)
    customer_id = fields.UUID(allow_none=True)


class TokenSchema(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer(metadata={"description": "Seconds until the access token expires"})
    session_id = fields.UUID()


class SessionSchema(Schema):
    id = fields.UUID()
    device_id = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    created_at = UTCDateTime()
    last_used_at = UTCDateTime()
    expires_at = UTCDateTime()


class SessionListSchema(Schema):
    items = fields.List(fields.Nested(SessionSchema))
    next_cursor = fields.String(allow_none=True)


class ApiKeyCreateSchema(Schema):
    name = text(120, required=True)
    scopes = fields.List(
        fields.String(validate=validate.OneOf(sorted(s.value for s in GRANTABLE_SCOPES))),
        required=True,
        validate=validate.Length(min=1),
    )
    expires_at = UTCDateTime(allow_none=True)


class ApiKeySchema(Schema):
    id = fields.UUID()
    name = fields.String()
    scopes = fields.List(fields.String())
    created_at = UTCDateTime()
    last_used_at = UTCDateTime(allow_none=True)
    expires_at = UTCDateTime(allow_none=True)
    revoked_at = UTCDateTime(allow_none=True)


class ApiKeyCreatedSchema(ApiKeySchema):
    key = fields.String(metadata={"description": "Shown once; store it now"})
