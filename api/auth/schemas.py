"""Auth request/response schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from api.auth.permissions import GRANTABLE_SCOPES, PERSON_ROLES, Role
from api.http.schemas import Schema, UTCDateTime, text

_PERSON_ROLE_VALUES = [role.value for role in PERSON_ROLES]


class PersonRole(fields.String):
    """A user's role: every :class:`Role` but ``integration``, which only API keys hold
    (an integration is never a user). Accepted, answered and documented alike: the
    OpenAPI enum is exactly the values this field loads."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.OneOf(_PERSON_ROLE_VALUES), **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else Role(value).value

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        # Anything else is left as text for the OneOf validator to refuse.
        return Role(text) if text in _PERSON_ROLE_VALUES else text


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
    role = PersonRole()
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
