"""Offers, answers, an order's dispatch and the dispatcher's queue on the wire."""

from __future__ import annotations

from marshmallow import fields, validate
from webargs.fields import DelimitedList

from api.http.pagination import PageArgs
from api.http.schemas import Schema, UTCDateTime, text
from dispatch.offers import OfferState

_STATES = [state.value for state in OfferState]


class OfferSchema(Schema):
    id = fields.UUID(required=True)
    work_order_id = fields.UUID(required=True)
    technician_id = fields.UUID(required=True)
    attempt = fields.Integer(required=True, metadata={"description": "1 for the order's first"})
    state = fields.String(
        required=True,
        validate=validate.OneOf(_STATES),
        metadata={
            "description": "pending, accepted, declined, expired (no answer in time) "
            "or withdrawn (the office assigned or cancelled the order)"
        },
    )
    number = fields.String(required=True)
    title = fields.String(required=True)
    site_address = fields.String(required=True)
    distance_m = fields.Integer(required=True)
    travel_s = fields.Integer(required=True, metadata={"description": "Estimated travel time"})
    score = fields.Float(required=True, metadata={"description": "As ranked among candidates"})
    offered_at = UTCDateTime(required=True)
    expires_at = UTCDateTime(required=True, metadata={"description": "Answer before this"})
    answered_at = UTCDateTime(required=True, allow_none=True)
    reason = fields.String(required=True, allow_none=True)
    version = fields.Integer(required=True)


class OfferListArgs(PageArgs):
    state = DelimitedList(fields.String(validate=validate.OneOf(_STATES)))


class DeclineSchema(Schema):
    reason = text(1000, required=True, allow_none=False)


class DispatchSchema(Schema):
    work_order_id = fields.UUID(required=True)
    mode = fields.String(required=True, metadata={"description": "suggest, offer or auto"})
    state = fields.String(
        required=True,
        metadata={
            "description": "offering, assigned, suggested, queued (the dispatcher's) "
            "or stopped (the office acted)"
        },
    )
    reason = fields.String(required=True, allow_none=True)
    reason_code = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "declined (the limit of unanswered offers), no_candidate, no_position"
        },
    )
    suggested_technician_id = fields.UUID(required=True, allow_none=True)
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True)


class OrderOffersSchema(Schema):
    work_order_id = fields.UUID(required=True)
    dispatch = fields.Nested(DispatchSchema, required=True, allow_none=True)
    offers = fields.List(fields.Nested(OfferSchema), required=True)


class DispatchSettingsSchema(Schema):
    dispatch_mode = fields.String(
        required=True,
        validate=validate.OneOf(["off", "suggest", "offer", "auto"]),
        metadata={
            "description": "What happens to a new order: off (default), suggest (the "
            "best candidate is recorded for the dispatcher), offer (offered to the best "
            "candidate, then the next), auto (assigned to the best candidate)"
        },
    )
    offer_timeout_s = fields.Integer(
        required=True,
        validate=validate.Range(min=30, max=86_400),
        metadata={"description": "How long an offer waits for an answer (default 300)"},
    )
    offer_max_declines = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=20),
        metadata={
            "description": "Offers declined or unanswered before the order goes to "
            "the dispatcher's queue (default 3)"
        },
    )
