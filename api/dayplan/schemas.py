"""Day-plan request and response schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from api.http.schemas import Schema, UTCDateTime


class PlanRequestSchema(Schema):
    date = fields.Date(required=True, metadata={"description": "The day, in the tenant's zone"})
    pinned = fields.List(
        fields.UUID(),
        load_default=list,
        validate=validate.Length(max=1000),
        metadata={"description": "Orders that keep their technician and scheduled time"},
    )
    time_limit_s = fields.Float(
        load_default=5.0,
        validate=validate.Range(min=0.5, max=10),
        allow_nan=False,
        metadata={"description": "How long the optimiser may search (0.5-10 s)"},
    )


class PlannedVisitSchema(Schema):
    work_order_id = fields.UUID()
    arrive_at = UTCDateTime(metadata={"description": "The ETA"})
    scheduled_end = UTCDateTime()
    travel_s = fields.Integer(metadata={"description": "Travel from the previous stop"})


class RouteSchema(Schema):
    technician_id = fields.UUID()
    visits = fields.List(fields.Nested(PlannedVisitSchema))


class LeftOutSchema(Schema):
    id = fields.UUID()
    reason = fields.String()


class PlanSchema(Schema):
    date = fields.Date()
    routes = fields.List(fields.Nested(RouteSchema))
    unassigned = fields.List(fields.Nested(LeftOutSchema), metadata={"description": "Orders"})
    idle = fields.List(fields.Nested(LeftOutSchema), metadata={"description": "Technicians"})
    travel_s = fields.Integer()
    greedy_travel_s = fields.Integer(
        metadata={"description": "A nearest-first plan's travel, for comparison"}
    )


class ApplyVisitSchema(Schema):
    work_order_id = fields.UUID(required=True)
    technician_id = fields.UUID(required=True)
    scheduled_start = UTCDateTime(required=True)
    scheduled_end = UTCDateTime(required=True)
    version = fields.Integer(
        load_default=None, metadata={"description": "The order's version you planned from"}
    )


class ApplyRequestSchema(Schema):
    visits = fields.List(
        fields.Nested(ApplyVisitSchema), required=True, validate=validate.Length(min=1, max=1000)
    )
