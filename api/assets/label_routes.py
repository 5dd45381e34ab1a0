"""QR labels of assets: one as SVG or PNG, and A4 PDF sheets to print (thin views)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, request
from flask.views import MethodView
from marshmallow import fields, validate

from api.assets import labels
from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.context import new_uow, read_uow, state
from api.http.guard import current_actor, requires
from api.http.schemas import Schema
from media.labels import label_png, label_svg

blp = Blueprint("asset_labels", __name__, url_prefix="/v1", description="Asset QR labels")

MAX_SHEET_ASSETS = 240  # ten A4 pages


class LabelArgs(Schema):
    format = fields.String(
        load_default="svg",
        validate=validate.OneOf(["svg", "png"]),
        metadata={"description": "`svg` (default) or `png`"},
    )


class SheetArgs(Schema):
    asset_ids = fields.List(
        fields.UUID(),
        required=True,
        validate=validate.Length(min=1, max=MAX_SHEET_ASSETS),
        metadata={"description": "The assets to print, in order (3 x 8 labels per A4 page)"},
    )


@blp.route("/assets/<uuid:asset_id>/label")
class AssetLabel(MethodView):
    @requires(Permission.ASSETS_READ)
    @blp.arguments(LabelArgs, location="query")
    @blp.response(200, description="The QR code", content_type="image/svg+xml")
    def get(self, args: dict[str, Any], asset_id: uuid.UUID) -> Any:
        """The asset's QR label: it opens the asset's public repair-request page
        (`<public url>/r/<label token>`)."""
        with read_uow() as uow:
            url = labels.label_url(uow.session, current_actor(), asset_id, _public_url())
        if args["format"] == "png":
            return _image(label_png(url), "image/png", url)
        return _image(label_svg(url), "image/svg+xml", url)


class ReplacedLabelSchema(Schema):
    label_url = fields.String(metadata={"description": "What the new label's QR code holds"})


@blp.route("/assets/<uuid:asset_id>/label-replacement")
class AssetLabelReplacement(MethodView):
    @requires(Permission.ASSETS_WRITE)
    @blp.response(200, ReplacedLabelSchema)
    def post(self, asset_id: uuid.UUID) -> Any:
        """Give the asset a new label token: labels printed before stop working at once
        (their repair link is 404 `repair.link_not_found`). Print the new label."""
        url = labels.replace_label(new_uow(), current_actor(), asset_id, _public_url())
        return {"label_url": url}


@blp.route("/asset-label-sheets")
class AssetLabelSheets(MethodView):
    @requires(Permission.ASSETS_READ)
    @blp.arguments(SheetArgs)
    @blp.response(200, description="A printable A4 PDF", content_type="application/pdf")
    def post(self, args: dict[str, Any]) -> Any:
        """An A4 PDF sheet of QR labels (70 x 37 mm, 3 x 8 per page), each with the asset's
        name and serial or code. 404 `asset.not_found` if any asset is not yours to see."""
        with read_uow() as uow:
            pdf = labels.label_sheet(uow.session, current_actor(), args["asset_ids"], _public_url())
        response = Response(pdf, mimetype="application/pdf")
        response.headers["Content-Disposition"] = 'attachment; filename="asset-labels.pdf"'
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def _public_url() -> str:
    return str(state().config.public_url or request.url_root)


def _image(body: bytes, mimetype: str, url: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Our own drawing, but an SVG opened as a page must still run nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["X-Label-URL"] = url
    response.cache_control.private = True
    return response
