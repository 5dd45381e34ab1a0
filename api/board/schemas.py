"""Board filters and the rows the console draws."""

from __future__ import annotations

from marshmallow import fields
from webargs.fields import DelimitedList

from api.board import rules
from api.customers.models import CustomerTier
from api.http.dumping import FastDumpSchema
from api.http.pagination import PageArgs
from api.http.schemas import UTCDateTime
from api.workorders.states import Priority, Status


class BoardOrderArgs(PageArgs):
    status = DelimitedList(
        fields.Enum(Status, by_value=True),
        metadata={"description": "Default: every open status (new to paused)"},
    )
    priority = DelimitedList(fields.Enum(Priority, by_value=True))
    team_id = fields.UUID(metadata={"description": "Assigned to a technician of this team"})
    category_id = fields.UUID(metadata={"description": "This category or any below it"})
    assignee_id = fields.UUID()
    unassigned = fields.Boolean(load_default=False, metadata={"description": "No assignee yet"})


class BoardTechnicianArgs(PageArgs):
    team_id = fields.UUID(load_default=None)


class BoardPlaceSchema(FastDumpSchema):
    id = fields.UUID()
    name = fields.String()
    city = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)


class BoardNamedSchema(FastDumpSchema):
    id = fields.UUID()
    name = fields.String()
    name_en = fields.String(allow_none=True)


class BoardAssigneeSchema(FastDumpSchema):
    id = fields.UUID(metadata={"description": "A technician"})
    name = fields.String()
    team_id = fields.UUID(allow_none=True)


class BoardOrderSchema(FastDumpSchema):
    id = fields.UUID()
    number = fields.String()
    title = fields.String()
    status = fields.Enum(Status, by_value=True)
    priority = fields.Enum(Priority, by_value=True)
    sla_due_at = UTCDateTime(allow_none=True, metadata={"description": "Resolution due time"})
    sla_state = fields.Enum(
        rules.SlaState,
        by_value=True,
        metadata={
            "description": "none (no policy), on_track, at_risk (past 75 % of the window), "
            "breached (past the due time, also while paused), paused"
        },
    )
    scheduled_start = UTCDateTime(allow_none=True)
    scheduled_end = UTCDateTime(allow_none=True)
    site = fields.Nested(BoardPlaceSchema, metadata={"description": "lat/lon null: not placed"})
    customer = fields.Nested(BoardNamedSchema)
    customer_tier = fields.Enum(CustomerTier, by_value=True)
    category = fields.Nested(
        BoardNamedSchema, allow_none=True, metadata={"description": "The leaf"}
    )
    assignee = fields.Nested(BoardAssigneeSchema, allow_none=True)
    version = fields.Integer(metadata={"description": "The ETag's value, for If-Match"})
    updated_at = UTCDateTime()


class BoardFixSchema(FastDumpSchema):
    lat = fields.Float()
    lon = fields.Float()
    accuracy_m = fields.Float(allow_none=True)
    fixed_at = UTCDateTime()


class BoardJobSchema(FastDumpSchema):
    id = fields.UUID()
    number = fields.String()
    status = fields.Enum(Status, by_value=True)


class BoardTechnicianSchema(FastDumpSchema):
    id = fields.UUID()
    name = fields.String()
    team_id = fields.UUID(allow_none=True)
    position = fields.Nested(
        BoardFixSchema, allow_none=True, metadata={"description": "The latest on-duty fix, if any"}
    )
    activity = fields.Enum(
        rules.Activity,
        by_value=True,
        metadata={
            "description": "working (on site), travelling, busy (accepted or paused work), "
            "available"
        },
    )
    current_job = fields.Nested(BoardJobSchema, allow_none=True)
    open_orders = fields.Integer(metadata={"description": "Assigned to them and not finished"})
    photo_url = fields.String(
        allow_none=True,
        metadata={
            "description": "Their 96 px portrait (WebP) through a short-lived link; null: none"
        },
    )
