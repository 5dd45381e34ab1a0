"""Evidence as the REST API shows it: what was recorded, by whom, and whether it was voided."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate

from api.http.schemas import Schema, UTCDateTime
from api.workorders.states import NoteVisibility

_VISIBILITY_DOC = "`internal` (staff only) or `customer` (also the customer's contacts)"


class EvidenceSchema(Schema):
    id = fields.UUID()
    work_order_id = fields.UUID()
    visibility = fields.String(metadata={"description": _VISIBILITY_DOC})
    author_kind = fields.String()
    author_id = fields.UUID(allow_none=True)
    device_id = fields.UUID(allow_none=True)
    occurred_at = UTCDateTime(
        metadata={"description": "When it was recorded: the device's time for synced evidence"}
    )
    created_at = UTCDateTime(metadata={"description": "When the server stored it"})
    voided_at = UTCDateTime(allow_none=True)
    voided_by = fields.UUID(allow_none=True)
    void_reason = fields.String(allow_none=True)


class LinkedBlobSchema(Schema):
    kind = fields.String(
        metadata={"description": "`thumb` (320), `display` (1600), `annotated` or `original`"}
    )
    content_type = fields.String()
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    size = fields.Integer(metadata={"description": "bytes"})
    url = fields.String(
        metadata={
            "description": "A short-lived link to the bytes (no `Authorization` needed): "
            "relative to the API when the server signs it, absolute when the store "
            "(S3) presigns it. Fetch it before `expires_at`; list again for a fresh one."
        }
    )
    expires_at = UTCDateTime()


class LocationSchema(Schema):
    lat = fields.Float()
    lon = fields.Float()
    alt = fields.Float(allow_none=True, metadata={"description": "metres above sea level"})


class PlaceholderSchema(Schema):
    blurhash = fields.String(metadata={"description": "a BlurHash (4×3 components)"})
    color = fields.String(metadata={"description": "the dominant colour, `#rrggbb`"})


class PointSchema(Schema):
    x = fields.Float(required=True, validate=validate.Range(0, 1))
    y = fields.Float(required=True, validate=validate.Range(0, 1))


def _color() -> fields.String:
    return fields.String(
        load_default="#ff3b30",
        validate=validate.Regexp(r"^#[0-9a-fA-F]{6}$"),
        metadata={"description": "`#rrggbb`"},
    )


def _stroke() -> fields.Float:
    return fields.Float(
        load_default=0.006,
        validate=validate.Range(0.001, 0.05),
        metadata={"description": "stroke width, of the long side"},
    )


class ArrowSchema(Schema):
    type = fields.Constant("arrow", required=True)
    from_ = fields.Nested(PointSchema, required=True, data_key="from")
    to = fields.Nested(PointSchema, required=True)
    color = _color()
    width = _stroke()


class CircleSchema(Schema):
    type = fields.Constant("circle", required=True)
    center = fields.Nested(PointSchema, required=True)
    radius = fields.Float(
        required=True,
        validate=validate.Range(0.005, 1),
        metadata={"description": "of the long side"},
    )
    color = _color()
    width = _stroke()


class TextSchema(Schema):
    type = fields.Constant("text", required=True)
    at = fields.Nested(PointSchema, required=True, metadata={"description": "top left"})
    text = fields.String(required=True, validate=validate.Length(1, 200))
    color = _color()
    size = fields.Float(
        load_default=0.04,
        validate=validate.Range(0.01, 0.2),
        metadata={"description": "of the long side"},
    )


SHAPES: dict[str, type[Schema]] = {"arrow": ArrowSchema, "circle": CircleSchema, "text": TextSchema}


_SHAPE_DOC = {
    "type": "object",
    "description": "`{type: arrow, from: {x, y}, to: {x, y}, color?, width?}`, "
    "`{type: circle, center: {x, y}, radius, color?, width?}` or "
    "`{type: text, at: {x, y}, text, color?, size?}`; x and y in 0..1, color `#rrggbb` "
    "(default `#ff3b30`), width 0.001..0.05 (default 0.006), radius 0.005..1, "
    "size 0.01..0.2 (default 0.04), text 1..200 characters",
}


class ShapeField(fields.Field[Any]):
    """One shape, by its ``type``: an arrow, a circle or a text."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict) or value.get("type") not in SHAPES:
            raise ValidationError("A shape is an object whose `type` is arrow, circle or text")
        schema = SHAPES[value["type"]]()
        return schema.dump(schema.load(value))  # the stored form: defaults filled in

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class AnnotationsSchema(Schema):
    shapes = fields.List(
        ShapeField(metadata=_SHAPE_DOC),
        required=True,
        validate=validate.Length(max=50),
        metadata={
            "description": "Arrows, circles and text over the upright original, in "
            "normalised coordinates (0..1 across its width and height); sizes are "
            "fractions of its long side. An empty list removes the annotations."
        },
    )


class PhotoSchema(EvidenceSchema):
    asset_id = fields.UUID(allow_none=True)
    note_id = fields.UUID(
        allow_none=True, metadata={"description": "the note of this order the photo illustrates"}
    )
    sha256 = fields.String()
    content_type = fields.String()
    size = fields.Integer(metadata={"description": "bytes, as declared by the device"})
    caption = fields.String(allow_none=True)
    taken_at = UTCDateTime(allow_none=True)
    state = fields.String(
        metadata={"description": "`pending` (bytes not here yet), `ready` or `invalid`"}
    )
    processing = fields.String(
        metadata={
            "description": "`pending` (renditions not made yet), `done`, or `failed` "
            "(the original is not a usable image: see `processing_error`)"
        }
    )
    processing_error = fields.String(
        allow_none=True, metadata={"description": "a `media.*` code, e.g. `media.corrupt`"}
    )
    width = fields.Integer(allow_none=True, metadata={"description": "of the original, upright"})
    height = fields.Integer(allow_none=True)
    captured_at = UTCDateTime(
        allow_none=True,
        metadata={"description": "from the EXIF, when it says its time zone (or GPS time)"},
    )
    captured_local = fields.String(
        allow_none=True, metadata={"description": "the camera's clock, as it read (no zone)"}
    )
    location = fields.Nested(
        LocationSchema,
        allow_none=True,
        metadata={"description": "the EXIF GPS position (staff only; never in a rendition)"},
    )
    placeholder = fields.Nested(PlaceholderSchema, allow_none=True)
    annotations = fields.List(ShapeField(metadata=_SHAPE_DOC), allow_none=True)
    derivatives = fields.List(
        fields.Nested(LinkedBlobSchema),
        metadata={"description": "Upright WebP renditions without EXIF, smallest first"},
    )
    original = fields.Nested(
        LinkedBlobSchema,
        allow_none=True,
        metadata={"description": "The bytes as uploaded, with their EXIF (staff only)"},
    )


class PartSchema(EvidenceSchema):
    asset_id = fields.UUID(allow_none=True)
    description = fields.String()
    quantity = fields.String(metadata={"description": "a decimal, as a string"})
    unit = fields.String()
    part_number = fields.String(allow_none=True)


class ReadingSchema(EvidenceSchema):
    asset_id = fields.UUID(allow_none=True)
    metric = fields.String()
    value = fields.String(metadata={"description": "a decimal, as a string"})
    unit = fields.String()
    taken_at = UTCDateTime()


class TimeEntrySchema(EvidenceSchema):
    activity = fields.String()
    started_at = UTCDateTime()
    ended_at = UTCDateTime()
    note = fields.String(allow_none=True)


class VisibilitySchema(Schema):
    visibility = fields.Enum(
        NoteVisibility, by_value=True, required=True, metadata={"description": _VISIBILITY_DOC}
    )
