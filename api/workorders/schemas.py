"""Work order request/response schemas: orders, transitions, history and notes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import fields, post_load, pre_dump, validate
from webargs.fields import DelimitedList

from api.http.dumping import FastDumpSchema
from api.http.pagination import PageArgs
from api.http.schemas import Schema, UTCDateTime, text
from api.location.schemas import EvidenceSchema
from api.technicians.schemas import SkillSchema
from api.workflows.schemas import WorkflowCurrentStepsSchema
from api.workorders.rules import RULES, Action
from api.workorders.states import NoteVisibility, Priority, Status

MAX_ASSETS = 100

_ACTIONS_DOC = "; ".join(
    f"{action.value}: from {', '.join(sorted(s.value for s in rule.sources))}"
    + (f" (needs {', '.join(rule.needs)})" if rule.needs else "")
    for action, rule in RULES.items()
)


class CategoryRefSchema(FastDumpSchema):
    id = fields.UUID()
    code = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)


class CategoryPathSchema(CategoryRefSchema):
    path = fields.List(
        fields.Nested(CategoryRefSchema), metadata={"description": "Level 1 to this category"}
    )


class MoneySchema(Schema):
    """Money on the wire (``{"amount": "12000.00", "currency": "CNY"}``), a Decimal inside."""

    amount = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9]{1,12}(\.[0-9]{1,2})?$"),
        metadata={"description": "Decimal text, up to 2 places", "example": "12000.00"},
    )
    currency = fields.String(
        required=True,
        validate=validate.OneOf(["CNY"]),
        metadata={"description": "The tenant's currency (CNY)"},
    )

    @pre_dump
    def _of_decimal(self, value: Any, **_: Any) -> dict[str, Any]:
        return {"amount": f"{value:.2f}", "currency": "CNY"}

    @post_load
    def _to_decimal(self, data: dict[str, Any], **_: Any) -> Any:
        return Decimal(data["amount"])


_AMOUNT_DOC = "The amount at stake (a claim, a contract value); an escalation fact"
_COMPLAINT_DOC = "The order is a complaint; an escalation fact"
_SKILLS_DOC = (
    "Skills (with a minimum level) this order needs beyond its category's "
    "(see GET /v1/categories/{id}/required-skills); dispatch offers it only to technicians "
    "who have both"
)


class WorkOrderSchema(FastDumpSchema):
    id = fields.UUID()
    number = fields.String(metadata={"description": "Per-tenant number, e.g. WO-000123"})
    title = fields.String()
    description = fields.String(allow_none=True)
    customer_id = fields.UUID()
    site_id = fields.UUID()
    asset_ids = fields.List(fields.UUID())
    category_id = fields.UUID(allow_none=True)
    category = fields.Nested(CategoryPathSchema, allow_none=True)
    priority = fields.Enum(Priority, by_value=True)
    status = fields.Enum(Status, by_value=True)
    assignee_id = fields.UUID(allow_none=True, metadata={"description": "A technician"})
    allowed_actions = fields.List(
        fields.String(),
        metadata={"description": "Transitions the caller may take now (draw these buttons)"},
    )
    possible_duplicates = fields.Integer(
        metadata={
            "description": "Open duplicate suggestions naming this order "
            "(GET /v1/work-orders/{id}/duplicates); 0 when none"
        }
    )
    merged_into_id = fields.UUID(
        allow_none=True,
        metadata={"description": "The order this one was merged into as a duplicate, if any"},
    )
    requested_start = UTCDateTime(allow_none=True)
    requested_end = UTCDateTime(allow_none=True)
    scheduled_start = UTCDateTime(allow_none=True)
    scheduled_end = UTCDateTime(allow_none=True)
    sla_due_at = UTCDateTime(
        allow_none=True,
        metadata={
            "description": "Resolution due time, computed by the server from the tenant's "
            "SLA policies (read-only; see GET /v1/work-orders/{id}/sla)"
        },
    )
    current_steps = fields.Nested(
        WorkflowCurrentStepsSchema,
        allow_none=True,
        metadata={
            "description": "The workflow's current step(s) and who must act (server-owned; "
            "null: no workflow applies; see GET /v1/work-orders/{id}/workflow)"
        },
    )
    complaint = fields.Boolean(metadata={"description": _COMPLAINT_DOC})
    amount = fields.Nested(MoneySchema, allow_none=True, metadata={"description": _AMOUNT_DOC})
    required_skills = fields.List(fields.Nested(SkillSchema), metadata={"description": _SKILLS_DOC})
    resolution = fields.String(allow_none=True)
    actual_start = UTCDateTime(
        allow_none=True,
        metadata={"description": "When work started on site (start_work), as the field saw it"},
    )
    actual_end = UTCDateTime(
        allow_none=True,
        metadata={
            "description": "When work ended (complete, or a cancel after work started); "
            "cleared by reopen"
        },
    )
    source = fields.String()
    created_by = fields.UUID(allow_none=True, metadata={"description": "The user who created it"})
    completed_at = UTCDateTime(allow_none=True)
    closed_at = UTCDateTime(allow_none=True)
    cancelled_at = UTCDateTime(allow_none=True)
    version = fields.Integer()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class WorkOrderUpdateSchema(Schema):
    title = text(200, allow_none=False)
    description = text(10000)
    priority = fields.Enum(Priority, by_value=True)
    category_id = fields.UUID(
        allow_none=True, metadata={"description": "A third-level category, or null"}
    )
    asset_ids = fields.List(
        fields.UUID(),
        validate=validate.Length(max=MAX_ASSETS),
        metadata={"description": "Replaces the list; every asset must be at the order's site"},
    )
    requested_start = UTCDateTime(allow_none=True)
    requested_end = UTCDateTime(allow_none=True)
    scheduled_start = UTCDateTime(allow_none=True)
    scheduled_end = UTCDateTime(allow_none=True)
    complaint = fields.Boolean(metadata={"description": _COMPLAINT_DOC + " (office only)"})
    amount = fields.Nested(
        MoneySchema, allow_none=True, metadata={"description": _AMOUNT_DOC + " (office only)"}
    )
    required_skills = fields.List(
        fields.Nested(SkillSchema),
        validate=validate.Length(max=20),
        metadata={"description": _SKILLS_DOC + "; replaces the list (office only)"},
    )


class WorkOrderCreateSchema(WorkOrderUpdateSchema):
    id = fields.UUID(metadata={"description": "Client-generated UUIDv7 (optional)"})
    title = text(200, required=True)
    customer_id = fields.UUID(required=True)
    site_id = fields.UUID(required=True, metadata={"description": "A site of the customer"})
    source = fields.String(
        validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,31}$"),
        metadata={"description": "Intake channel, e.g. api, web, phone, email, qr"},
    )


class WorkOrderListArgs(PageArgs):
    status = DelimitedList(fields.Enum(Status, by_value=True))
    priority = DelimitedList(fields.Enum(Priority, by_value=True))
    assignee_id = fields.UUID()
    customer_id = fields.UUID()
    site_id = fields.UUID()
    category_id = fields.UUID(metadata={"description": "This category or any below it"})
    updated_since = UTCDateTime(metadata={"description": "updated_at at or after (RFC 3339)"})
    q = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Title or number contains"},
    )


class TransitionSchema(Schema):
    action = fields.Enum(
        Action, by_value=True, required=True, metadata={"description": _ACTIONS_DOC}
    )
    reason = text(1000)
    assignee_id = fields.UUID(metadata={"description": "assign: an active technician"})
    resolution = text(10000, metadata={"description": "complete: what was done"})
    occurred_at = UTCDateTime(
        metadata={
            "description": "Office only: when the step happened, if earlier than now (an "
            "arrival phoned in). Not before the order's current step, not in the future. "
            "Default: now"
        }
    )


class StatusChangeSchema(Schema):
    id = fields.UUID()
    work_order_id = fields.UUID()
    action = fields.String()
    from_status = fields.Enum(Status, by_value=True, allow_none=True)
    to_status = fields.Enum(Status, by_value=True)
    reason = fields.String(allow_none=True)
    actor_kind = fields.String()
    actor_id = fields.UUID(allow_none=True)
    occurred_at = UTCDateTime(
        metadata={
            "description": "When the step happened: the device's time for a synced step "
            "(skew-corrected, never after recorded_at), else when it was taken"
        }
    )
    recorded_at = UTCDateTime(metadata={"description": "When the server stored the step"})


class HistoryStepSchema(StatusChangeSchema):
    """A step of ``GET /v1/work-orders/{id}/history``: with the geofence's evidence on
    the ``arrive`` step its visit backs."""

    arrival_evidence = fields.Nested(
        EvidenceSchema,
        allow_none=True,
        metadata={
            "description": "On the `arrive` step of the order's geofenced visit (the first "
            "since the technician last set off before the arrival the fixes showed): the "
            "stay inside the fence that made the arrival, as `/visit` gives it; else null"
        },
    )
    departure_evidence = fields.Nested(
        EvidenceSchema,
        allow_none=True,
        metadata={
            "description": "On the same step, once the geofence saw the technician leave: the "
            "absence beyond the exit radius that made the departure (its `first` fix is the "
            "departure time), as `/visit` gives it; else null"
        },
    )


class NoteSchema(Schema):
    id = fields.UUID()
    work_order_id = fields.UUID()
    body = fields.String()
    visibility = fields.String()
    author_kind = fields.String()
    author_id = fields.UUID(allow_none=True)
    occurred_at = UTCDateTime(
        metadata={"description": "When it was written: the device's time for a synced note"}
    )
    created_at = UTCDateTime(metadata={"description": "When the server stored it"})
    voided_at = UTCDateTime(allow_none=True)
    void_reason = fields.String(allow_none=True)


class NoteCreateSchema(Schema):
    id = fields.UUID(metadata={"description": "Client-generated UUIDv7 (optional)"})
    body = text(10000, required=True)
    visibility = fields.Enum(
        NoteVisibility,
        by_value=True,
        metadata={"description": "Default: customer for customer contacts, else internal"},
    )
