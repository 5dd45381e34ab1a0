"""OpenAPI descriptions of the sync messages.

Sync bodies are read and written by ``sync_protocol.messages`` (strict, shared
with the SDK), not by marshmallow; these schemas only document the shapes in
the OpenAPI document (PROTOCOL.md § 6 is normative).
"""

from __future__ import annotations

from marshmallow import Schema, fields

_MAP = {"description": "scope → value"}


class OutboxReportSchema(Schema):
    pending = fields.Integer(required=True)
    oldest = fields.String(allow_none=True, metadata={"description": "HLC of the oldest pending"})


class PullRequestSchema(Schema):
    protocol = fields.Integer(required=True, metadata={"example": 1})
    schema = fields.Integer(required=True, metadata={"example": 1})
    device_id = fields.UUID(required=True)
    device_time_ms = fields.Integer(required=True)
    outbox = fields.Nested(OutboxReportSchema, required=True)
    cursors = fields.Dict(
        keys=fields.String(),
        values=fields.String(allow_none=True),
        required=True,
        metadata={"description": "`technician:<id>` or `taxonomy` → cursor, or null to start"},
    )
    limit = fields.Integer(required=True, metadata={"description": "1–1000 changes per page"})


class ChangeSchema(Schema):
    op = fields.String(required=True, metadata={"description": "upsert | tombstone"})
    scope = fields.String(required=True)
    table = fields.String(required=True)
    id = fields.UUID(required=True)
    version = fields.Integer(required=True, metadata={"description": "change number"})
    row = fields.Dict(metadata={"description": "upsert: the whole row image"})
    reason = fields.String(metadata={"description": "tombstone: deleted | left_scope"})


class CheckpointSchema(Schema):
    cursors = fields.Dict(keys=fields.String(), values=fields.String(), metadata=_MAP)
    checksums = fields.Dict(keys=fields.String(), values=fields.String(), metadata=_MAP)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata=_MAP)


class PullResponseSchema(Schema):
    protocol = fields.Integer(required=True)
    server_time = fields.String(required=True, metadata={"description": "the server's HLC"})
    changes = fields.List(fields.Nested(ChangeSchema), required=True)
    cursors = fields.Dict(keys=fields.String(), values=fields.String(), metadata=_MAP)
    has_more = fields.Boolean(required=True)
    checkpoint = fields.Nested(CheckpointSchema, allow_none=True)


class ResetDetailSchema(Schema):
    reason = fields.String(required=True)
    title = fields.String(required=True)
    detail = fields.String(required=True)
    push_first = fields.Boolean(required=True)
    min_schema = fields.Integer(required=True)
    scopes = fields.List(fields.String(), required=True)


class ResetRequiredSchema(Schema):
    protocol = fields.Integer(required=True)
    reset_required = fields.Nested(ResetDetailSchema, required=True)


class MutationSchema(Schema):
    seq = fields.Integer(required=True, metadata={"description": "1, 2, 3, … per device"})
    hlc = fields.String(required=True, metadata={"description": "the device's HLC"})
    name = fields.String(required=True, metadata={"example": "transition_work_order"})
    args = fields.Dict(required=True, metadata={"description": "per mutation (PROTOCOL.md § 9)"})


class PushRequestSchema(Schema):
    protocol = fields.Integer(required=True, metadata={"example": 1})
    schema = fields.Integer(required=True, metadata={"example": 1})
    device_id = fields.UUID(required=True)
    device_time_ms = fields.Integer(required=True)
    outbox = fields.Nested(OutboxReportSchema, required=True)
    mutations = fields.List(fields.Nested(MutationSchema), required=True)


class ReceiptSchema(Schema):
    seq = fields.Integer(required=True)
    status = fields.String(
        required=True,
        metadata={"description": "applied | duplicate | merged | conflict | rejected"},
    )
    hlc = fields.String(allow_none=True, metadata={"description": "the effective HLC"})
    code = fields.String(allow_none=True)
    field = fields.String(allow_none=True)
    detail = fields.String(allow_none=True)
    warnings = fields.List(fields.String())
    fields_ = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "patch_work_order: applied | duplicate | superseded | proposed"},
    )
    conflict_ids = fields.List(fields.UUID())
    entity_id = fields.UUID(allow_none=True)


class PushResponseSchema(Schema):
    protocol = fields.Integer(required=True)
    server_time = fields.String(required=True)
    last_seq = fields.Integer(required=True)
    receipts = fields.List(fields.Nested(ReceiptSchema), required=True)
