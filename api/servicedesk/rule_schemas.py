"""Priority rule schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from api.http.schemas import Schema, UTCDateTime, text
from api.workorders.states import Priority

_PRIORITIES = [p.value for p in Priority]


class RuleUpdateSchema(Schema):
    name = text(120, allow_none=False)
    position = fields.Integer(
        validate=validate.Range(min=0, max=10_000),
        metadata={"description": "Lower first; the first rule that holds decides"},
    )
    logic = fields.Dict(
        metadata={
            "description": "JSON Logic over category, category_path, customer.tier, text, "
            "channel, requested_priority",
            "example": {"in": ["漏水", {"var": "text"}]},
        }
    )
    priority = fields.String(validate=validate.OneOf(_PRIORITIES))
    active = fields.Boolean()


class RuleCreateSchema(RuleUpdateSchema):
    id = fields.UUID(metadata={"description": "Client-generated UUIDv7 (optional)"})
    name = text(120, required=True)
    position = fields.Integer(required=True, validate=validate.Range(min=0, max=10_000))
    logic = fields.Dict(required=True)
    priority = fields.String(required=True, validate=validate.OneOf(_PRIORITIES))


class RuleSchema(RuleCreateSchema):
    id = fields.UUID(dump_only=True)
    version = fields.Integer(dump_only=True)
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)


class DryRunRuleSchema(Schema):
    name = text(120, required=True)
    logic = fields.Dict(required=True)
    priority = fields.String(required=True, validate=validate.OneOf(_PRIORITIES))


class DryRunArgsSchema(Schema):
    rules = fields.List(
        fields.Nested(DryRunRuleSchema),
        validate=validate.Length(max=200),
        metadata={
            "description": "A rule set to try, in order; omitted: `version`, or the saved "
            "active rules"
        },
    )
    version = fields.Integer(
        validate=validate.Range(min=1),
        metadata={"description": "Try this saved version of the rule set (its `number`)"},
    )
    limit = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=200),
        metadata={"description": "How many of the most recent orders to try it on"},
    )


class DryRunItemSchema(Schema):
    work_order_id = fields.UUID()
    number = fields.String()
    current_priority = fields.String()
    priority = fields.String(metadata={"description": "What the rules would give"})
    rule = fields.String(allow_none=True, metadata={"description": "The rule that fired"})


class DryRunSchema(Schema):
    items = fields.List(fields.Nested(DryRunItemSchema))


class DecisionSchema(Schema):
    rule_id = fields.UUID(allow_none=True)
    rule_name = fields.String(allow_none=True)
    rule_set_version = fields.Integer(
        allow_none=True, metadata={"description": "The rule set version that decided"}
    )
    requested_priority = fields.String(allow_none=True)
    priority = fields.String(allow_none=True)
    decided_at = UTCDateTime(allow_none=True)


class VersionRuleSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    position = fields.Integer()
    logic = fields.Dict()
    priority = fields.String()
    active = fields.Boolean()


class RuleVersionSchema(Schema):
    id = fields.UUID()
    number = fields.Integer(metadata={"description": "1, 2, 3 … per tenant, never reused"})
    cause = fields.String(
        metadata={"description": "What wrote it: create, update, delete or rollback"}
    )
    rolled_back_to = fields.Integer(
        allow_none=True, metadata={"description": "A rollback: the version it restores"}
    )
    created_by = fields.UUID(allow_none=True)
    created_at = UTCDateTime()
    rules = fields.List(
        fields.Nested(VersionRuleSchema),
        metadata={"description": "The whole rule set as saved, in the order rules apply"},
    )
