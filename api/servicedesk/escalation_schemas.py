"""Escalation rule, escalation and SLA pause schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from api.http.schemas import Schema, UTCDateTime, text
from api.servicedesk.escalation_rules import ACTIONS, LEVELS, MAX_MINUTES, SLA_TARGETS, TRIGGERS


class EscalationRuleUpdateSchema(Schema):
    name = text(120, allow_none=False)
    level = fields.Integer(
        validate=validate.OneOf(LEVELS), metadata={"description": "1, 2 or 3; fires once per order"}
    )
    logic = fields.Dict(
        metadata={
            "description": "JSON Logic over priority, status, assigned, complaint, amount, "
            "category, category_path, customer.tier, text, channel ({} = every order)",
            "example": {
                "and": [{"var": "complaint"}, {">": [{"var": "amount"}, 10000]}],
            },
        }
    )
    category_id = fields.UUID(
        allow_none=True, metadata={"description": "This category and those below it; null: any"}
    )
    trigger = fields.String(
        validate=validate.OneOf(TRIGGERS),
        metadata={
            "description": "created: minutes since creation; status: minutes in the current "
            "status; sla: percent of an SLA target"
        },
    )
    minutes = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=0, max=MAX_MINUTES),
        metadata={"description": "created/status triggers (0: at once)"},
    )
    business_time = fields.Boolean(
        metadata={"description": "created/status: count business minutes on the order's calendar"}
    )
    sla_target = fields.String(allow_none=True, validate=validate.OneOf(SLA_TARGETS))
    percent = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=1, max=500),
        metadata={"description": "sla trigger: 75 warns, 100 is the breach"},
    )
    action = fields.String(validate=validate.OneOf(ACTIONS))
    team_id = fields.UUID(
        allow_none=True,
        metadata={"description": "notify_supervisor: this team's; null: the assignee's team's"},
    )
    active = fields.Boolean()


class EscalationRuleCreateSchema(EscalationRuleUpdateSchema):
    id = fields.UUID(metadata={"description": "Client-generated UUIDv7 (optional)"})
    name = text(120, required=True)
    level = fields.Integer(required=True, validate=validate.OneOf(LEVELS))
    trigger = fields.String(required=True, validate=validate.OneOf(TRIGGERS))
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))


class EscalationRuleSchema(EscalationRuleCreateSchema):
    id = fields.UUID(dump_only=True)
    version = fields.Integer(dump_only=True)
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)


class EscalationSchema(Schema):
    id = fields.UUID()
    work_order_id = fields.UUID()
    rule_id = fields.UUID(
        allow_none=True, metadata={"description": "Null once the rule is deleted"}
    )
    rule_name = fields.String()
    level = fields.Integer()
    action = fields.String()
    due_at = UTCDateTime(metadata={"description": "When the trigger was reached"})
    fired_at = UTCDateTime(metadata={"description": "When the worker acted"})
    recipients = fields.List(fields.UUID(), metadata={"description": "Users notified"})
    priority_before = fields.String(allow_none=True)
    priority_after = fields.String(allow_none=True)


class EscalationListSchema(Schema):
    items = fields.List(fields.Nested(EscalationSchema))


class PauseArgsSchema(Schema):
    reason = text(1000, required=True, allow_none=False)


class ResumeArgsSchema(Schema):
    reason = text(1000)


class SlaPauseSchema(Schema):
    id = fields.UUID()
    work_order_id = fields.UUID()
    started_at = UTCDateTime()
    ended_at = UTCDateTime(allow_none=True)
    reason = fields.String()
    resume_reason = fields.String(allow_none=True)
    started_by = fields.UUID(allow_none=True)
    ended_by = fields.UUID(allow_none=True)


class SlaPauseListSchema(Schema):
    items = fields.List(fields.Nested(SlaPauseSchema))
