"""Base schemas and fields shared by every blueprint.

Unknown fields are an error everywhere (marshmallow's RAISE), timestamps are
RFC 3339 UTC with ``Z`` and must carry a zone when sent, and strings have
lengths, so nothing unbounded reaches the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate


class Schema(ma.Schema):
    class Meta:
        unknown = ma.RAISE
        ordered = True


class UTCDateTime(fields.AwareDateTime):
    """Input must carry a timezone; output is always UTC with ``Z``."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return utc_text(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        result = super()._deserialize(value, attr, data, **kwargs)
        return result.astimezone(dt.UTC)


def utc_text(value: dt.datetime | None) -> str | None:
    """A timestamp as the API writes it: UTC, microseconds, ``Z``."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def text(
    max_length: int, *, required: bool = False, allow_none: bool = True, **kw: Any
) -> fields.String:
    """A bounded string. Two validators, so "too short" and "too long" get their own codes."""
    validators: list[validate.Validator] = [validate.Length(max=max_length)]
    if required:
        validators.insert(0, validate.Length(min=1))
    return fields.String(
        required=required, allow_none=allow_none and not required, validate=validators, **kw
    )


def latitude(**kw: Any) -> fields.Float:
    return fields.Float(validate=validate.Range(min=-90, max=90), allow_nan=False, **kw)


def longitude(**kw: Any) -> fields.Float:
    return fields.Float(validate=validate.Range(min=-180, max=180), allow_nan=False, **kw)


class PositionSchema(Schema):
    lat = latitude(required=True)
    lon = longitude(required=True)
