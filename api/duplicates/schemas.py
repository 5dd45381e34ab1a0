"""Request and response schemas of the duplicate endpoints."""

from __future__ import annotations

from marshmallow import fields, validate
from webargs.fields import DelimitedList

from api.http.pagination import PageArgs
from api.http.schemas import Schema, UTCDateTime
from api.workorders.states import Status

STATES = ("open", "dismissed", "merged")


class OrderSummarySchema(Schema):
    id = fields.UUID()
    number = fields.String()
    title = fields.String()
    status = fields.Enum(Status, by_value=True)
    created_at = UTCDateTime()


class SuggestionSchema(Schema):
    id = fields.UUID()
    work_order_id = fields.UUID(metadata={"description": "The order the list was asked for"})
    other = fields.Nested(OrderSummarySchema, metadata={"description": "The likely duplicate"})
    score = fields.Integer(metadata={"description": "0-100: text similarity, plus shared asset"})
    reasons = fields.List(
        fields.String(),
        metadata={"description": "same_site, same_asset, same_category, similar_text"},
    )
    state = fields.String(metadata={"description": "open, dismissed or merged"})
    created_at = UTCDateTime()
    decided_at = UTCDateTime(allow_none=True)


class SuggestionListArgs(PageArgs):
    state = DelimitedList(
        fields.String(validate=validate.OneOf(STATES)),
        metadata={"description": "Comma-separated; default open"},
    )


class MergeSchema(Schema):
    into_work_order_id = fields.UUID(
        required=True, metadata={"description": "The order that stays; this one is cancelled"}
    )


class LinkSchema(Schema):
    kind = fields.String(metadata={"description": "merged_into or repeat_of"})
    direction = fields.String(
        metadata={"description": "outgoing: this order → other; incoming: other → this order"}
    )
    other = fields.Nested(OrderSummarySchema)
    created_at = UTCDateTime()


class LinkListSchema(Schema):
    items = fields.List(fields.Nested(LinkSchema))


class DuplicateSettingsSchema(Schema):
    duplicate_window_hours = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=24 * 30),
        metadata={"description": "Orders created this close to each other are compared (72)"},
    )
    duplicate_min_score = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "Pairs scoring at least this (0-100) are suggested (60)"},
    )
