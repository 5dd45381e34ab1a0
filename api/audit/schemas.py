"""Audit log schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from api.http.pagination import PageArgs
from api.http.schemas import Schema, UTCDateTime


class AuditEventSchema(Schema):
    id = fields.UUID()
    occurred_at = UTCDateTime()
    actor_kind = fields.String(metadata={"description": "user, api_key or system"})
    actor_id = fields.UUID(allow_none=True)
    action = fields.String(metadata={"description": "create, update, delete, transition, revoke"})
    entity_type = fields.String()
    entity_id = fields.UUID()
    changes = fields.Dict(
        metadata={"description": 'Per field {"before": ..., "after": ...} (creates: "after" only)'}
    )
    request_id = fields.String(allow_none=True)


class AuditListArgs(PageArgs):
    entity_type = fields.String(validate=validate.Length(max=40))
    entity_id = fields.UUID()
    actor_id = fields.UUID()
    action = fields.String(validate=validate.Length(max=32))
