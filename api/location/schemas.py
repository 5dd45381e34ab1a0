"""Position request/response schemas.

A batch is read leniently, fix by fix (:func:`read_fixes`): one unreadable fix is
reported in ``rejected`` and the rest are still kept, which a strict schema over
the whole batch could not do.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate

from api.db import utcnow
from api.http.schemas import Schema, UTCDateTime, latitude, longitude
from dispatch.fixes import MAX_BATCH, Fix, parse_fix

# A trail is read into memory and simplified whole: a month is the most one asks for.
MAX_TRAIL_WINDOW = timedelta(days=31)


class FixSchema(Schema):
    fixed_at = UTCDateTime(required=True, metadata={"description": "When the device took the fix"})
    lat = latitude(required=True)
    lon = longitude(required=True)
    accuracy_m = fields.Float(
        allow_none=True, allow_nan=False, validate=validate.Range(min=0), load_default=None
    )
    speed_mps = fields.Float(allow_none=True, allow_nan=False, load_default=None)
    heading_deg = fields.Float(
        allow_none=True, allow_nan=False, validate=validate.Range(min=0, max=360), load_default=None
    )
    altitude_m = fields.Float(allow_none=True, allow_nan=False, load_default=None)


class _UncheckedFixes(fields.List[Any]):
    """Documented as a list of Fix, but passed on unread past being a list:
    :func:`read_fixes` reads each fix, so a bad one is reported alone instead of
    failing the batch (and a thousand fixes do not go through marshmallow)."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, *args: Any, **kwargs: Any
    ) -> Any:
        if not isinstance(value, list):
            raise self.make_error("invalid")
        return value


class PositionBatchSchema(Schema):
    fixes = _UncheckedFixes(
        fields.Nested(FixSchema),
        required=True,
        metadata={"description": f"At most {MAX_BATCH}, in any order; resends are harmless"},
    )


class SyncPositionBatchSchema(PositionBatchSchema):
    device_id = fields.UUID(required=True)


class RejectionSchema(Schema):
    index = fields.Integer(metadata={"description": "Position of the fix in the batch"})
    code = fields.String(metadata={"description": "location.invalid_fix, location.inaccurate, ..."})
    detail = fields.String()


class CurrentLocationSchema(Schema):
    technician_id = fields.UUID()
    fixed_at = UTCDateTime()
    lat = fields.Float()
    lon = fields.Float()
    accuracy_m = fields.Float(allow_none=True)
    device_id = fields.String()


class RecordedSchema(Schema):
    accepted = fields.Integer(metadata={"description": "Fixes kept now"})
    duplicates = fields.Integer(metadata={"description": "Fixes this device had sent before"})
    rejected = fields.List(fields.Nested(RejectionSchema))
    current = fields.Nested(CurrentLocationSchema, allow_none=True)


class SightingSchema(Schema):
    """One kept fix, and how far it lies from the point asked about. A customer
    contact reading a visit's evidence gets `fixed_at` and `distance_m` only."""

    fixed_at = fields.String(metadata={"format": "date-time", "description": "RFC 3339, UTC"})
    lat = fields.Float()
    lon = fields.Float()
    accuracy_m = fields.Float(allow_none=True)
    distance_m = fields.Float(metadata={"description": "To the point (the site), in metres"})


class EvidenceSchema(Schema):
    first = fields.Nested(SightingSchema, metadata={"description": "The time given"})
    last = fields.Nested(SightingSchema, metadata={"description": "The fix completing the dwell"})
    fixes = fields.Integer(
        metadata={"description": "Fixes on that side of the fence, both ends included"}
    )


class VisitSchema(Schema):
    work_order_id = fields.UUID()
    technician_id = fields.UUID()
    arrived_at = UTCDateTime()
    left_at = UTCDateTime(allow_none=True)
    arrival = fields.String(metadata={"description": "`recorded` or `suggested`"})
    arrival_evidence = fields.Nested(
        EvidenceSchema,
        allow_none=True,
        metadata={"description": "The stay inside the fence that made the arrival"},
    )
    departure_evidence = fields.Nested(
        EvidenceSchema,
        allow_none=True,
        metadata={"description": "The absence beyond the exit radius that made the departure"},
    )


class TrailArgs(Schema):
    """``to`` before ``from`` is ``end_not_after_start``, a span over 31 days
    ``window_too_long`` (422 ``request.validation_failed``)."""

    start = UTCDateTime(
        data_key="from", load_default=None, metadata={"description": "Default: `to` minus a day"}
    )
    end = UTCDateTime(
        data_key="to",
        load_default=None,
        metadata={
            "description": f"Default: now; at most {MAX_TRAIL_WINDOW.days} days after `from`"
        },
    )
    tolerance_m = fields.Float(
        load_default=10.0, validate=validate.Range(min=0, max=1000), allow_nan=False
    )
    format = fields.String(load_default="geojson", validate=validate.OneOf(["geojson", "gpx"]))

    @post_load
    def _window(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        end = data["end"] or utcnow()
        start = data["start"] or end - timedelta(days=1)
        if end < start:
            raise ValidationError("The end must be after the start.", "to")
        if end - start > MAX_TRAIL_WINDOW:
            raise ValidationError(
                f"The time window is longer than {MAX_TRAIL_WINDOW.days} days.", "to"
            )
        return {**data, "start": start, "end": end}


def read_fixes(items: list[Any]) -> tuple[list[Fix], list[int], list[tuple[int, str]]]:
    """The readable fixes with their batch indexes, and the unreadable ones' errors
    (:func:`dispatch.fixes.parse_fix` reads each; :class:`FixSchema` documents it)."""
    kept: list[Fix] = []
    indexes: list[int] = []
    invalid: list[tuple[int, str]] = []
    for index, item in enumerate(items):
        fix = parse_fix(item)
        if isinstance(fix, str):
            invalid.append((index, fix))
        else:
            kept.append(fix)
            indexes.append(index)
    return kept, indexes, invalid
