"""Query schemas for fixes near a place and a job's presence at its site.

Bad input is a 422 ``request.validation_failed`` whose ``errors`` name the field
and a stable code: ``near`` ``invalid_format`` (not ``lat,lon``) or
``out_of_range`` (outside ±90/±180, NaN, infinity); ``radius`` ``out_of_range``
(not above 0, or over the cap); ``to`` ``end_not_after_start`` (before ``from``)
or ``window_too_long`` (a span over the cap).
"""

from __future__ import annotations

import math
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate

from api.db import utcnow
from api.http.pagination import PageArgs
from api.http.schemas import PositionSchema, Schema, UTCDateTime
from api.location.nearby import DEFAULT_WINDOW, MAX_RADIUS_M, MAX_WINDOW, NearQuery
from api.location.schemas import SightingSchema


class NearPoint(fields.Field[tuple[float, float]]):
    """``lat,lon`` in decimal degrees (WGS84), as in a map link."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        parts = value.split(",") if isinstance(value, str) else []
        try:
            lat, lon = (float(part) for part in parts)
        except ValueError:
            raise ValidationError("String does not match expected pattern `lat,lon`.") from None
        if not (math.isfinite(lat) and math.isfinite(lon)):
            raise ValidationError("Special numeric values (nan or infinity) are not permitted.")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValidationError("Must be greater than or equal to -90/-180 and at most 90/180.")
        return lat, lon


def _radius(**kw: Any) -> fields.Float:
    return fields.Float(
        allow_nan=False,
        validate=validate.Range(min=0, min_inclusive=False, max=MAX_RADIUS_M),
        metadata={"description": f"Metres, above 0 and at most {MAX_RADIUS_M:.0f}"},
        **kw,
    )


class FixesNearArgs(PageArgs):
    near = NearPoint(
        required=True,
        metadata={
            "description": "The point: `lat,lon` in decimal degrees",
            "example": "31.2304,121.4737",
        },
    )
    radius = _radius(load_default=100.0)
    start = UTCDateTime(
        data_key="from", load_default=None, metadata={"description": "Default: `to` minus a day"}
    )
    end = UTCDateTime(
        data_key="to",
        load_default=None,
        metadata={"description": f"Default: now; at most {MAX_WINDOW.days} days after `from`"},
    )

    @post_load
    def _query(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        end = data["end"] or utcnow()
        start = data["start"] or end - DEFAULT_WINDOW
        if end < start:
            raise ValidationError("The end must be after the start.", "to")
        if end - start > MAX_WINDOW:
            raise ValidationError(f"The time window is longer than {MAX_WINDOW.days} days.", "to")
        lat, lon = data["near"]
        query = NearQuery(lat, lon, data["radius"], start, end)
        return {"query": query, "limit": data["limit"], "cursor": data["cursor"]}


class PresenceArgs(Schema):
    radius = _radius(load_default=None)


class StaySchema(Schema):
    first = fields.Nested(SightingSchema)
    last = fields.Nested(SightingSchema)
    fixes = fields.Integer()
    seconds = fields.Float(metadata={"description": "From the first fix to the last"})


class PresenceSchema(Schema):
    work_order_id = fields.UUID()
    technician_id = fields.UUID(metadata={"description": "The order's assignee"})
    site = fields.Nested(PositionSchema, metadata={"description": "The order's site"})
    radius_m = fields.Float(metadata={"description": "Default: the tenant's geofence radius"})
    start = UTCDateTime(
        data_key="from", metadata={"description": "When the job was first under way"}
    )
    end = UTCDateTime(
        data_key="to", metadata={"description": "When it was completed or cancelled, else now"}
    )
    truncated = fields.Boolean(
        metadata={
            "description": "True when the job's span held more fixes near the site than one "
            "answer reads (50,000, oldest first): the figures then cover the span only up to "
            "`counted_until`"
        }
    )
    counted_until = UTCDateTime(
        metadata={
            "description": "The instant the figures cover the span up to: `to`, or when "
            "`truncated`, the time of the last fix read"
        }
    )
    fixes_inside = fields.Integer()
    seconds_inside = fields.Float(
        metadata={"description": "The stays' spans added up (gaps over 5 minutes not counted)"}
    )
    first_inside = fields.Nested(SightingSchema, allow_none=True)
    last_inside = fields.Nested(SightingSchema, allow_none=True)
    stays = fields.List(
        fields.Nested(StaySchema),
        metadata={"description": "Runs of fixes inside at most 5 minutes apart, in time order"},
    )
