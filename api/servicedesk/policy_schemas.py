"""SLA policy and order SLA schemas. Targets are business minutes on the policy's calendar."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from api.customers.models import CustomerTier
from api.http.schemas import Schema, UTCDateTime, text
from api.workorders.states import Priority


def _minutes(**kw: Any) -> fields.Integer:
    return fields.Integer(allow_none=True, validate=validate.Range(min=1, max=366 * 24 * 60), **kw)


class PolicyUpdateSchema(Schema):
    name = text(120, allow_none=False)
    priority = fields.String(
        allow_none=True,
        validate=validate.OneOf([p.value for p in Priority]),
        metadata={"description": "Null: any"},
    )
    category_id = fields.UUID(
        allow_none=True,
        metadata={"description": "This category and those below it; null: any"},
    )
    customer_tier = fields.String(
        allow_none=True,
        validate=validate.OneOf([t.value for t in CustomerTier]),
        metadata={"description": "Null: any"},
    )
    calendar_id = fields.UUID(
        allow_none=True,
        metadata={"description": "Null: the tenant's default calendar (round the clock if none)"},
    )
    first_response_minutes = _minutes()
    arrival_minutes = _minutes()
    resolution_minutes = _minutes()


class PolicyCreateSchema(PolicyUpdateSchema):
    id = fields.UUID(metadata={"description": "Client-generated UUIDv7 (optional)"})
    name = text(120, required=True)


class PolicySchema(PolicyCreateSchema):
    id = fields.UUID(dump_only=True)
    version = fields.Integer(dump_only=True)
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)


class OrderSlaSchema(Schema):
    policy_id = fields.UUID(allow_none=True)
    state = fields.String(
        metadata={"description": "running, paused (waiting), stopped (finished) or none"}
    )
    first_response_due_at = UTCDateTime(allow_none=True)
    arrival_due_at = UTCDateTime(allow_none=True)
    resolution_due_at = UTCDateTime(allow_none=True)
    computed_at = UTCDateTime(allow_none=True)
    first_response_met_at = UTCDateTime(
        allow_none=True,
        metadata={"description": "When the first assign or accept happened (set once)"},
    )
    first_response_met_by = fields.String(
        allow_none=True, metadata={"description": "The action that met it"}
    )
    first_response_breached = fields.Boolean(
        allow_none=True, metadata={"description": "Met after its due time"}
    )
    arrival_met_at = UTCDateTime(
        allow_none=True, metadata={"description": "When the first arrive happened (set once)"}
    )
    arrival_met_by = fields.String(allow_none=True)
    arrival_breached = fields.Boolean(allow_none=True)
