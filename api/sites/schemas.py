"""Site request/response schemas.

A position is ``{"lat": .., "lon": ..}`` (WGS84) or null, on the way in and out;
a half position cannot be sent, because both keys are required inside it.
"""

from __future__ import annotations

import math
import zoneinfo
from typing import Any

from marshmallow import ValidationError, fields, missing, validate

from api.http.pagination import PageArgs
from api.http.schemas import PositionSchema, Schema, UTCDateTime, text

_TIMEZONES = frozenset(zoneinfo.available_timezones())


def _known_timezone(value: str) -> None:
    if value not in _TIMEZONES:
        raise ValidationError("Not a valid time zone name (IANA, e.g. Asia/Shanghai).")


class PositionOf(fields.Nested):
    """Dumps an object's ``lat``/``lon`` columns as one ``position`` (null when unset)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(PositionSchema, allow_none=True, dump_only=True, **kw)

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        lat, lon = getattr(obj, "lat", None), getattr(obj, "lon", None)
        if lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)):
            return None
        return {"lat": lat, "lon": lon}


class SiteSchema(Schema):
    id = fields.UUID(dump_only=True)
    customer_id = fields.UUID(dump_only=True)
    name = fields.String()
    name_en = fields.String(allow_none=True)
    address = fields.String()
    address_en = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    position = PositionOf()
    access_notes = fields.String(allow_none=True)
    timezone = fields.String()
    active = fields.Boolean()
    version = fields.Integer(dump_only=True)
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)


class SiteUpdateSchema(Schema):
    name = text(200, allow_none=False)
    name_en = text(200)
    address = text(500, allow_none=False)
    address_en = text(500)
    city = text(100)
    position = fields.Nested(
        PositionSchema,
        allow_none=True,
        metadata={"description": "WGS84 `{lat, lon}`; null clears it"},
    )
    access_notes = text(2000)
    timezone = fields.String(validate=[validate.Length(max=64), _known_timezone])
    active = fields.Boolean()


class SiteCreateSchema(SiteUpdateSchema):
    id = fields.UUID(metadata={"description": "Client-generated UUIDv7 (optional)"})
    customer_id = fields.UUID(required=True)
    name = text(200, required=True)
    address = text(500, required=True)


class SiteListArgs(PageArgs):
    customer_id = fields.UUID()
    q = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Name, address or city contains"},
    )
    active = fields.Boolean()
