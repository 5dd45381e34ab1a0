"""Query and response schemas of the service desk KPIs."""

from __future__ import annotations

from marshmallow import fields
from webargs.fields import DelimitedList

from api.http.schemas import Schema, UTCDateTime
from api.workorders.states import Priority


class KpiArgs(Schema):
    start = UTCDateTime(
        data_key="from",
        metadata={"description": "Orders created at or after this instant (default: 30 days ago)"},
    )
    end = UTCDateTime(
        data_key="to",
        metadata={"description": "…and before this one (default: now); at most 366 days"},
    )
    team_id = fields.UUID(metadata={"description": "Orders assigned to this team's technicians"})
    category_id = fields.UUID(metadata={"description": "This category and those below it"})
    priority = DelimitedList(
        fields.Enum(Priority, by_value=True), metadata={"description": "Comma-separated"}
    )


class TimingSchema(Schema):
    count = fields.Integer(metadata={"description": "Orders measured"})
    median_seconds = fields.Integer(allow_none=True)
    p90_seconds = fields.Integer(allow_none=True, metadata={"description": "Nearest rank"})


class DurationSchema(TimingSchema):
    business = fields.Nested(
        TimingSchema,
        metadata={"description": "In business seconds, for orders with an SLA calendar"},
    )


class FirstContactSchema(Schema):
    resolved = fields.Integer()
    first_contact = fields.Integer(metadata={"description": "One visit at most, never reopened"})
    rate = fields.Float(allow_none=True)


class EscalationRateSchema(Schema):
    orders = fields.Integer()
    escalated = fields.Integer(metadata={"description": "Orders with an escalation fired"})
    rate = fields.Float(allow_none=True)


class SlaAttainmentSchema(Schema):
    target = fields.String(metadata={"description": "first_response, arrival or resolution"})
    eligible = fields.Integer(metadata={"description": "Due time met, or already past"})
    met = fields.Integer(metadata={"description": "Met by the due time"})
    rate = fields.Float(allow_none=True)


class CsatSchema(Schema):
    count = fields.Integer()
    average = fields.Float(allow_none=True)
    distribution = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "Score 1-5: count"}
    )


class KpiSchema(Schema):
    start = UTCDateTime(data_key="from")
    end = UTCDateTime(data_key="to")
    orders = fields.Integer(metadata={"description": "Orders created in the period, not cancelled"})
    cancelled = fields.Integer(metadata={"description": "Cancelled ones (not in the KPIs)"})
    first_contact_resolution = fields.Nested(FirstContactSchema)
    first_response = fields.Nested(DurationSchema)
    resolution = fields.Nested(DurationSchema)
    escalation = fields.Nested(EscalationRateSchema)
    sla = fields.List(fields.Nested(SlaAttainmentSchema))
    csat = fields.Nested(CsatSchema)
