"""Candidate query arguments and the explainable ranking."""

from __future__ import annotations

from marshmallow import fields, validate

from api.dispatching.services import CAPACITY, FRESH_MINUTES, SHORTLIST
from api.http.schemas import Schema, UTCDateTime
from dispatch import candidates as rules


class CandidateArgs(Schema):
    skill = fields.String(
        load_default=None, validate=validate.Length(min=1, max=64),
        metadata={"description": "A skill the technician must have"},
    )  # fmt: skip
    min_level = fields.Integer(load_default=1, validate=validate.Range(min=1, max=5))
    certification = fields.String(
        load_default=None, validate=validate.Length(min=1, max=200),
        metadata={"description": "A certification the technician must hold, unexpired at `at`"},
    )  # fmt: skip
    at = UTCDateTime(
        load_default=None,
        metadata={
            "description": "When the work starts, the shift checked at that instant; default: "
            "the order's requested window (on shift long enough in it), or now"
        },
    )
    fresh_minutes = fields.Integer(
        load_default=FRESH_MINUTES, validate=validate.Range(min=1, max=24 * 60),
        metadata={"description": "A fix older than this places no one: home base does"},
    )  # fmt: skip
    capacity = fields.Integer(
        load_default=CAPACITY, validate=validate.Range(min=1, max=100),
        metadata={"description": "Open orders a technician may already hold"},
    )  # fmt: skip
    shortlist = fields.Integer(
        load_default=SHORTLIST, validate=validate.Range(min=1, max=500),
        metadata={"description": "How many of the nearest technicians are looked at"},
    )  # fmt: skip
    profile = fields.String(
        load_default="urban", validate=validate.OneOf(sorted(rules.SPEED_PROFILES))
    )


class ScorePartsSchema(Schema):
    travel = fields.Float(required=True)
    workload = fields.Float(required=True)
    sla = fields.Float(required=True)
    tier = fields.Float(required=True)
    continuity = fields.Float(required=True)


class CandidateSchema(Schema):
    technician_id = fields.UUID(required=True)
    name = fields.String(required=True)
    score = fields.Float(required=True)
    parts = fields.Nested(ScorePartsSchema, required=True)
    distance_m = fields.Float(required=True, metadata={"description": "Exact geodesic (WGS84)"})
    travel_minutes = fields.Float(required=True)
    travel_source = fields.String(
        required=True,
        metadata={"description": "`straight_line` (geodesic at the speed profile) or `osrm`"},
    )
    position = fields.String(
        required=True, metadata={"description": "`fix` (a fresh fix) or `home` (home base)"}
    )
    open_orders = fields.Integer(required=True)


class ExcludedSchema(Schema):
    technician_id = fields.UUID(required=True)
    name = fields.String(required=True)
    filter = fields.String(required=True, metadata={"description": "The first filter failed"})
    detail = fields.String(required=True)


class CandidatesSchema(Schema):
    work_order_id = fields.UUID(required=True)
    candidates = fields.List(fields.Nested(CandidateSchema), required=True)
    excluded = fields.List(fields.Nested(ExcludedSchema), required=True)
