"""Asset request/response schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from api.assets.models import Symbology
from api.assets.queries import Warranty
from api.http.pagination import PageArgs
from api.http.schemas import Schema, UTCDateTime, text
from api.workorders.states import Priority, Status


def _barcode(**kw: Any) -> fields.String:
    # No blank barcodes: "" would be one more unique value that no scanner can produce.
    # Two validators, so an empty value reports too_short rather than "between 1 and 256".
    return fields.String(validate=[validate.Length(min=1), validate.Length(max=256)], **kw)


class AssetSchema(Schema):
    id = fields.UUID(dump_only=True)
    site_id = fields.UUID(dump_only=True)
    customer_id = fields.UUID(dump_only=True)
    name = fields.String()
    name_en = fields.String(allow_none=True)
    manufacturer = fields.String(allow_none=True)
    model = fields.String(allow_none=True)
    serial_number = fields.String(allow_none=True)
    barcode_value = fields.String(allow_none=True)
    barcode_symbology = fields.Enum(Symbology, by_value=True, allow_none=True)
    installed_on = fields.Date(allow_none=True)
    warranty_ends_on = fields.Date(allow_none=True)
    notes = fields.String(allow_none=True)
    active = fields.Boolean()
    gs1 = fields.Method(
        "_gs1",
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "GS1 element strings of the barcode (AI 01, 21, 10, 17), or null",
            "type": "object",
        },
    )
    provisional = fields.Boolean(
        dump_only=True, metadata={"description": "Made by a scan; awaiting the office"}
    )
    version = fields.Integer(dump_only=True)
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)

    def _gs1(self, asset: Any) -> dict[str, Any] | None:
        expires = asset.gs1_expires_on
        if not (asset.gs1_gtin or asset.gs1_serial or asset.gs1_lot or expires):
            return None
        return {
            "gtin": asset.gs1_gtin,
            "serial": asset.gs1_serial,
            "lot": asset.gs1_lot,
            "expires_on": expires.isoformat() if expires else None,
        }


class AssetUpdateSchema(Schema):
    site_id = fields.UUID(
        metadata={"description": "Moves the asset; its customer follows the new site's"}
    )
    name = text(200, allow_none=False)
    name_en = text(200)
    manufacturer = text(120)
    model = text(120)
    serial_number = text(120)
    barcode_value = _barcode(
        allow_none=True,
        metadata={
            "description": "Unique in the tenant; what a scan reads. Checked against the "
            "symbology (EAN/UPC check digit, Code 128/39 characters); a GS1 element string "
            "is parsed (`gs1`) and kept in its `(01)...` form"
        },
    )
    barcode_symbology = fields.Enum(
        Symbology,
        by_value=True,
        allow_none=True,
        metadata={"description": "Only together with a barcode_value"},
    )
    installed_on = fields.Date(allow_none=True)
    warranty_ends_on = fields.Date(allow_none=True, metadata={"description": "Last covered day"})
    notes = text(2000)
    active = fields.Boolean()


class AssetCreateSchema(AssetUpdateSchema):
    id = fields.UUID(metadata={"description": "Client-generated UUIDv7 (optional)"})
    site_id = fields.UUID(required=True)
    name = text(200, required=True)


class AssetListArgs(PageArgs):
    site_id = fields.UUID()
    customer_id = fields.UUID()
    barcode = _barcode(metadata={"description": "Exact barcode value (scan lookup)"})
    serial_number = fields.String(
        validate=validate.Length(min=1, max=120), metadata={"description": "Exact serial number"}
    )
    q = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Name, maker, model, serial or barcode contains"},
    )
    warranty = fields.Enum(
        Warranty,
        by_value=True,
        metadata={"description": "`active`: ends today or later (tenant's time zone)"},
    )
    active = fields.Boolean()
    provisional = fields.Boolean(
        metadata={"description": "`true`: made by scans of unknown codes, still to settle"}
    )


class ScanArgsSchema(Schema):
    code = fields.String(
        required=True,
        validate=[validate.Length(min=1), validate.Length(max=256)],
        metadata={"description": "What the scanner read (GS1: `]C1...` or `(01)...` alike)"},
    )
    symbology = fields.Enum(
        Symbology,
        by_value=True,
        allow_none=True,
        metadata={"description": "What the scanner read; checks the code (EAN/UPC check digit)"},
    )
    site_id = fields.UUID(
        allow_none=True,
        metadata={
            "description": "Where the scan happens: an unknown code becomes a provisional "
            "asset here. Without it an unknown code is `asset.not_found`"
        },
    )
    id = fields.UUID(
        allow_none=True,
        metadata={"description": "Client-generated UUIDv7 for a provisional asset, if made"},
    )


class SiteBriefSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    city = fields.String(allow_none=True)


class WarrantySchema(Schema):
    status = fields.String(
        metadata={
            "description": "`active` (ends today or later, tenant time zone), "
            "`expired`, or `unknown` (no end date)"
        }
    )
    ends_on = fields.Date(allow_none=True)


class OrderBriefSchema(Schema):
    id = fields.UUID()
    number = fields.String()
    title = fields.String()
    status = fields.Enum(Status, by_value=True)
    priority = fields.Enum(Priority, by_value=True)
    category_id = fields.UUID(allow_none=True)
    resolution = fields.String(allow_none=True)
    created_at = UTCDateTime()
    completed_at = UTCDateTime(allow_none=True)
    closed_at = UTCDateTime(allow_none=True)
    cancelled_at = UTCDateTime(allow_none=True)


class ScanResultSchema(Schema):
    asset = fields.Nested(AssetSchema)
    provisional_created = fields.Boolean(
        attribute="created",
        metadata={"description": "The code was unknown: this scan made a provisional asset"},
    )
    site = fields.Nested(SiteBriefSchema)
    warranty = fields.Nested(WarrantySchema)
    open_work_orders = fields.List(fields.Nested(OrderBriefSchema))
    service_history = fields.List(
        fields.Nested(OrderBriefSchema),
        metadata={"description": "Finished orders on the asset, newest first (at most 20)"},
    )


class MergeArgsSchema(Schema):
    into_asset_id = fields.UUID(
        required=True, metadata={"description": "The asset the provisional one really is"}
    )


class PhotoCodeSchema(Schema):
    code = fields.String(metadata={"description": "As read; GS1 in its `(01)...` form"})
    symbology = fields.Enum(Symbology, by_value=True, allow_none=True)
    format = fields.String(metadata={"description": "The reader's name of the format"})
    problem = fields.String(
        allow_none=True, metadata={"description": "The `barcode.*` check it failed, if any"}
    )
    asset = fields.Nested(AssetSchema, allow_none=True)


class PhotoCodesSchema(Schema):
    codes = fields.List(fields.Nested(PhotoCodeSchema))
