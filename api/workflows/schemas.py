"""Workflow definition and run schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from api.http.schemas import Schema, UTCDateTime, text
from api.workflows.definitions import MAX_STEPS, OWNER_ROLES, Approval
from api.workflows.engine import StepAction
from api.workorders.states import Status

_KEY = validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class WorkflowPartySchema(Schema):
    team_id = fields.UUID(metadata={"description": "A team of the tenant (its members act)"})
    role = fields.String(
        validate=validate.Length(max=32),
        metadata={"description": f"Everyone with this role: {', '.join(sorted(OWNER_ROLES))}"},
    )


class WorkflowStepSchema(Schema):
    key = fields.String(
        required=True,
        validate=_KEY,
        metadata={"description": "Stable name of the step (a-z, 0-9, _ and -)"},
    )
    name = text(120, required=True)
    name_en = text(120)
    owner = fields.Nested(WorkflowPartySchema, required=True)
    approval = fields.String(
        load_default=Approval.SINGLE.value,
        validate=validate.OneOf([a.value for a in Approval]),
        metadata={
            "description": "single: one person of the owner completes it; countersign: every "
            "approver must approve; any_of: one approver is enough"
        },
    )
    approvers = fields.List(
        fields.Nested(WorkflowPartySchema), validate=validate.Length(max=20), load_default=list
    )
    next = fields.List(
        fields.String(validate=_KEY),
        validate=validate.Length(max=MAX_STEPS),
        load_default=list,
        metadata={
            "description": "Steps that follow; several: in parallel (a step named by "
            "several steps waits for all of them)"
        },
    )
    done_when_status = fields.List(
        fields.String(validate=validate.OneOf([s.value for s in Status])),
        validate=validate.Length(max=10),
        load_default=list,
        metadata={
            "description": "The step is done when the order reaches one of these statuses "
            "(and may be completed by hand only while it has one)"
        },
    )


class WorkflowDefinitionUpdateSchema(Schema):
    name = text(120, allow_none=False)
    active = fields.Boolean(metadata={"description": "Inactive: starts no new runs"})
    start = fields.List(
        fields.String(validate=_KEY),
        validate=validate.Length(min=1, max=MAX_STEPS),
        metadata={"description": "The first step(s); default: the first step listed"},
    )
    steps = fields.List(
        fields.Nested(WorkflowStepSchema),
        validate=validate.Length(min=1, max=MAX_STEPS),
        metadata={"description": "New steps (or start) make a new version of the definition"},
    )


class WorkflowDefinitionCreateSchema(WorkflowDefinitionUpdateSchema):
    id = fields.UUID(metadata={"description": "Client-generated UUIDv7 (optional)"})
    name = text(120, required=True)
    category_id = fields.UUID(
        allow_none=True,
        metadata={
            "description": "This category and every one below it without its own workflow; "
            "null: every order no category's workflow covers"
        },
    )
    steps = fields.List(
        fields.Nested(WorkflowStepSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_STEPS),
    )


class WorkflowDefinitionSchema(WorkflowDefinitionCreateSchema):
    id = fields.UUID(dump_only=True)
    current_version = fields.Integer(
        dump_only=True, metadata={"description": "Orders started earlier keep their version"}
    )
    version = fields.Integer(dump_only=True)
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)


class WorkflowDefinitionVersionSchema(Schema):
    id = fields.UUID()
    number = fields.Integer()
    start = fields.List(fields.String())
    steps = fields.List(fields.Nested(WorkflowStepSchema))
    created_by = fields.UUID(allow_none=True)
    created_at = UTCDateTime()


class WorkflowActionSchema(Schema):
    step = fields.String(required=True, validate=_KEY)
    action = fields.String(
        required=True,
        validate=validate.OneOf([a.value for a in StepAction]),
        metadata={"description": "complete (single steps), approve (countersign, any_of), reject"},
    )
    comment = text(2000, metadata={"description": "Required to reject"})
    override_reason = text(
        1000,
        metadata={"description": "An admin acting on a step that is not theirs says why"},
    )


class WorkflowWaitingForSchema(Schema):
    team_id = fields.UUID()
    team_name = fields.String(allow_none=True)
    role = fields.String()


class WorkflowCurrentStepSchema(Schema):
    key = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    approval = fields.String()
    done_when_status = fields.List(fields.String())
    waiting_for = fields.List(
        fields.Nested(WorkflowWaitingForSchema), metadata={"description": "Who must act now"}
    )


class WorkflowCurrentStepsSchema(Schema):
    state = fields.String(metadata={"description": "active, finished or cancelled"})
    definition_id = fields.UUID()
    version = fields.Integer(allow_none=True)
    steps = fields.List(fields.Nested(WorkflowCurrentStepSchema))


class WorkflowRunStepSchema(Schema):
    key = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "waiting, active or done"})
    approval = fields.String()
    owner = fields.Nested(WorkflowPartySchema)
    approvers = fields.List(fields.Nested(WorkflowPartySchema))
    approved = fields.List(fields.Nested(WorkflowPartySchema))
    next = fields.List(fields.String())
    done_when_status = fields.List(fields.String())


class WorkflowEventSchema(Schema):
    id = fields.UUID()
    step = fields.String(allow_none=True)
    kind = fields.String(
        metadata={
            "description": "started, activated, completed, approved, rejected, returned, "
            "done_by_status, finished, cancelled, resumed"
        }
    )
    approver = fields.Nested(WorkflowPartySchema, allow_none=True)
    comment = fields.String(allow_none=True)
    override_reason = fields.String(allow_none=True)
    actor_kind = fields.String()
    actor_id = fields.UUID(allow_none=True)
    at = UTCDateTime()


class WorkflowRunSchema(Schema):
    work_order_id = fields.UUID()
    definition_id = fields.UUID()
    version = fields.Integer(allow_none=True, metadata={"description": "The version it follows"})
    state = fields.String(metadata={"description": "active, finished or cancelled"})
    current_steps = fields.List(fields.Nested(WorkflowCurrentStepSchema))
    yours = fields.List(
        fields.String(),
        metadata={"description": "Current steps the caller may act on (draw these buttons)"},
    )
    steps = fields.List(fields.Nested(WorkflowRunStepSchema))
    events = fields.List(fields.Nested(WorkflowEventSchema))
