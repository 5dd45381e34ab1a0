"""Tracking request/response schemas. The public ones name no internal id."""

from __future__ import annotations

from marshmallow import fields, validate

from api.http.schemas import Schema, UTCDateTime, text
from api.tracking.rules import LANGUAGES, Step


class SharedLinkSchema(Schema):
    url = fields.String(
        metadata={"description": "`<public_url>/t/<token>`, to send by SMS or WeChat"}
    )
    token = fields.String()
    expires_at = UTCDateTime(
        metadata={"description": "30 days after it was made, or 14 days after the order ended"}
    )


class TrackingArgs(Schema):
    lang = fields.String(
        load_default=None,
        validate=validate.OneOf(LANGUAGES),
        metadata={"description": "`zh-CN` or `en`; default: `Accept-Language`, else the tenant's"},
    )


class StepSchema(Schema):
    key = fields.String(validate=validate.OneOf([step.value for step in Step]))
    title = fields.String(metadata={"description": "In the page's language"})
    done = fields.Boolean()
    occurred_at = UTCDateTime(
        allow_none=True,
        metadata={
            "description": "When it happened (field time); null if not yet, or for "
            "`scheduled` (see `schedule`)"
        },
    )


class WindowSchema(Schema):
    start = UTCDateTime()
    end = UTCDateTime(allow_none=True)


class PublicTechnicianSchema(Schema):
    name = fields.String(
        allow_none=True,
        metadata={
            "description": "How the customer addresses them, never the full name: in "
            "Chinese the surname and 师傅 (王师傅), otherwise the given name (Wei)"
        },
    )
    photo_url = fields.String(allow_none=True)


class PublicSiteSchema(Schema):
    city = fields.String(allow_none=True)


class PublicPositionSchema(Schema):
    lat = fields.Float()
    lon = fields.Float()
    accuracy_m = fields.Float(allow_none=True)
    fixed_at = UTCDateTime()


class EtaSchema(Schema):
    seconds = fields.Integer(metadata={"description": "Travel time left, whole minutes"})
    arrive_by = UTCDateTime()
    distance_m = fields.Integer(metadata={"description": "Straight line to the site"})
    profile = fields.String(
        metadata={"description": "How it was estimated: `osrm` (by road) or a speed profile"}
    )


class PublicReportSchema(Schema):
    version = fields.Integer()
    sealed_at = UTCDateTime()
    sha256 = fields.String()
    verification_url = fields.String(metadata={"description": "The public seal check (JSON)"})
    verification_page_url = fields.String(
        metadata={"description": "The same check as a page for people (the PDF's QR code)"}
    )
    pdf_ready = fields.Boolean()


class RatingSchema(Schema):
    score = fields.Integer()
    comment = fields.String(allow_none=True)
    rated_at = UTCDateTime()


class TrackingSchema(Schema):
    reference = fields.String(metadata={"description": "The order's number, to quote"})
    title = fields.String()
    status = fields.String()
    language = fields.String()
    timezone = fields.String(
        metadata={"description": "The tenant's IANA time zone, to show times in (`Asia/Shanghai`)"}
    )
    current_step = fields.String()
    steps = fields.List(fields.Nested(StepSchema))
    cancelled_at = UTCDateTime(allow_none=True)
    schedule = fields.Nested(WindowSchema, allow_none=True)
    technician = fields.Nested(PublicTechnicianSchema, allow_none=True)
    site = fields.Nested(PublicSiteSchema)
    position = fields.Nested(
        PublicPositionSchema,
        allow_none=True,
        metadata={"description": "Only while the technician is on the way"},
    )
    eta = fields.Nested(EtaSchema, allow_none=True)
    report = fields.Nested(PublicReportSchema, allow_none=True)
    rating = fields.Nested(RatingSchema, allow_none=True)
    can_rate = fields.Boolean()
    expires_at = UTCDateTime()


class RatingCreateSchema(Schema):
    score = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    comment = text(1000)


class TechnicianPhotoArgs(Schema):
    v = fields.String(
        load_default=None,
        validate=validate.Length(max=64),
        metadata={"description": "Which portrait (from `photo_url`): a new photo, a new URL"},
    )
