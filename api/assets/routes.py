"""``/v1/assets``: thin views over the asset services, plus the barcode lookup."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.assets import queries, scans, services
from api.assets.schemas import (
    AssetCreateSchema,
    AssetListArgs,
    AssetSchema,
    AssetUpdateSchema,
    MergeArgsSchema,
    PhotoCodesSchema,
    ScanArgsSchema,
    ScanResultSchema,
)
from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.body import body_bytes, body_policy
from api.http.context import new_uow, read_uow
from api.http.etag import etag_header, if_match
from api.http.guard import current_actor, requires
from api.http.idempotency import idempotent
from api.http.pagination import page_schema

MAX_SCAN_PHOTO_BYTES = 10 * 1024 * 1024

blp = Blueprint("assets", __name__, url_prefix="/v1", description="Equipment at customer sites")


@blp.route("/assets")
class Assets(MethodView):
    @requires(Permission.ASSETS_READ)
    @blp.arguments(AssetListArgs, location="query")
    @blp.response(200, page_schema(AssetSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """List assets, oldest first. Customer contacts see their customer's assets;
        technicians the assets at the sites of their assigned work orders."""
        with read_uow() as uow:
            return queries.list_assets(uow.session, current_actor(), **args)

    @requires(Permission.ASSETS_WRITE)
    @idempotent
    @blp.arguments(AssetCreateSchema)
    @blp.response(201, AssetSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create an asset at a site; it belongs to the site's customer."""
        asset = services.create_asset(new_uow(), current_actor(), data)
        return asset, etag_header(asset.version)


# <path:...> so barcodes that hold "/" (URLs in QR codes) still route; merge_slashes
# off so "https://..." is not folded into "https:/...".
@blp.route("/assets/by-barcode/<path:barcode_value>", merge_slashes=False)
class AssetByBarcode(MethodView):
    @requires(Permission.ASSETS_READ)
    @blp.response(200, AssetSchema)
    def get(self, barcode_value: str) -> Any:
        """The asset whose barcode is exactly this value (percent-encode it), for scanners.
        `GET /v1/assets?barcode=` finds the same asset as a one-item list; use that for
        values that begin with `/`, which cannot form a path segment."""
        with read_uow() as uow:
            asset = queries.asset_by_barcode(uow.session, current_actor(), barcode_value)
        return asset, etag_header(asset.version)


@blp.route("/assets/<uuid:asset_id>")
class AssetById(MethodView):
    @requires(Permission.ASSETS_READ)
    @blp.response(200, AssetSchema)
    def get(self, asset_id: uuid.UUID) -> Any:
        """Read an asset."""
        with read_uow() as uow:
            asset = queries.access_asset(uow.session, current_actor(), asset_id)
        return asset, etag_header(asset.version)

    @requires(Permission.ASSETS_WRITE)
    @if_match
    @blp.arguments(AssetUpdateSchema)
    @blp.response(200, AssetSchema)
    def patch(self, changes: dict[str, Any], asset_id: uuid.UUID, version: int) -> Any:
        """Change some fields of an asset, or move it (`site_id`). Needs `If-Match`."""
        asset = services.update_asset(new_uow(), current_actor(), asset_id, version, changes)
        return asset, etag_header(asset.version)

    @requires(Permission.ASSETS_WRITE)
    @if_match
    @blp.response(204)
    def delete(self, asset_id: uuid.UUID, version: int) -> None:
        """Delete an asset that no work order names. Needs `If-Match`."""
        services.delete_asset(new_uow(), current_actor(), asset_id, version)


@blp.route("/scans")
class Scans(MethodView):
    @requires(Permission.ASSETS_SCAN)
    @blp.arguments(ScanArgsSchema)
    @blp.response(200, ScanResultSchema)
    def post(self, args: dict[str, Any]) -> Any:
        """Scan a code: the asset it names in your tenant, its site, warranty, open orders and
        service history. The code is checked against its symbology first (422 `barcode.*`).
        An unknown code with a `site_id` makes a provisional asset there
        (`provisional_created`) for the office to confirm or merge; without one it is 404."""
        return scans.scan(
            read_uow(),
            new_uow,
            current_actor(),
            args["code"],
            args.get("symbology"),
            args.get("site_id"),
            args.get("id"),
        )


@blp.route("/assets/<uuid:asset_id>/confirmation")
class AssetConfirmation(MethodView):
    @requires(Permission.ASSETS_WRITE)
    @if_match(required=False)
    @blp.response(200, AssetSchema)
    def post(self, asset_id: uuid.UUID, version: int | None) -> Any:
        """Accept a provisional asset (made by a scan) as a real one. With `If-Match`, only
        if the asset is still at that version (412 otherwise)."""
        asset = scans.confirm_asset(new_uow(), current_actor(), asset_id, version)
        return asset, etag_header(asset.version)


@blp.route("/assets/<uuid:asset_id>/merge")
class AssetMerge(MethodView):
    @requires(Permission.ASSETS_WRITE)
    @if_match(required=False)
    @blp.arguments(MergeArgsSchema)
    @blp.response(200, AssetSchema)
    def post(self, args: dict[str, Any], asset_id: uuid.UUID, version: int | None) -> Any:
        """Merge a provisional asset into the asset it really is: its work order links,
        parts, readings and photos move there, the target takes the scanned code if it has
        none, and the provisional asset is deleted; answers the target. With `If-Match`
        (the provisional asset's ETag), only if it is still at that version."""
        asset = scans.merge_asset(
            new_uow(), current_actor(), asset_id, version, args["into_asset_id"]
        )
        return asset, etag_header(asset.version)


@blp.route("/scans/photo")
class PhotoScans(MethodView):
    @requires(Permission.ASSETS_SCAN)
    @body_policy(max_bytes=MAX_SCAN_PHOTO_BYTES, json=False)
    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}}
                for kind in ("image/jpeg", "image/png", "image/webp", "image/heic")
            },
        }
    )
    @blp.response(200, PhotoCodesSchema)
    def post(self) -> Any:
        """Read the barcodes and QR codes in a photo (the raw image as the body, up to
        10 MiB), for devices that cannot scan: each code as read, whether it passes its
        symbology's check, and the asset of your tenant it names (or null). Nothing is
        created. A body that is not a whole JPEG, PNG, WebP or HEIC image is a `media.*`
        problem."""
        codes = scans.codes_in_photo(read_uow(), current_actor(), body_bytes())
        return {"codes": codes}
