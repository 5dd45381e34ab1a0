"""``/r/{token}``: the public repair request API behind an asset's QR label (no login).

The page a label opens comes with the web surfaces; these are what it (or any
client) calls: ``GET /r/{token}/asset`` names the asset, ``POST
/r/{token}/repair-requests`` opens a work order from a plain form post.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView

from api.errors.base import FieldProblem
from api.errors.common import ValidationFailed
from api.http.blueprint import Blueprint
from api.http.body import body_policy
from api.http.context import blob_store, new_uow, read_uow, state
from api.http.guard import public
from api.repairs import services
from api.repairs.photos import MAX_PHOTO_BYTES, MAX_PHOTOS
from api.repairs.schemas import PublicAssetSchema, ReceivedSchema, RepairFormSchema

blp = Blueprint("repairs", __name__, url_prefix="/r", description="Public repair requests (报修)")

# The whole form: three photos at their limit and the fields with their multipart
# framing. Past it, 413 `request.too_large` before any of the body is read (with a
# Content-Length) or as soon as the limit is crossed (without one).
MAX_FORM_BYTES = MAX_PHOTOS * MAX_PHOTO_BYTES + 64 * 1024


@blp.route("/<string:token>/asset")
class RepairAsset(MethodView):
    @public
    @blp.response(200, PublicAssetSchema)
    @blp.problem(429, "`request.rate_limited`: too many requests for this label or address")
    def get(self, token: str) -> Any:
        """The asset a label names, for the repair page's heading (names only, no ids).
        An unknown or replaced token is 404 `repair.link_not_found`. Limited per label
        and per address (`FIELDLINE_TRACKING_RATE_LIMIT`, the public reads' budget)."""
        limiter = current_app.extensions["fieldline_tracking_limiter"]
        with read_uow() as uow:
            asset = services.describe_asset(
                uow.session, limiter, token, request.remote_addr or "unknown"
            )
        # Outside /v1 nothing else says so: a shared cache kept a replaced label's customer.
        return asset, 200, {"Cache-Control": "no-store"}


@blp.route("/<string:token>/repair-requests")
class RepairRequests(MethodView):
    @public
    # Streamed: the form parser reads the body once, keeping photos in temporary files,
    # rather than the whole body being read into memory first.
    @body_policy(max_bytes=MAX_FORM_BYTES, json=False, stream=True)
    @blp.arguments(RepairFormSchema, location="form")
    @blp.response(201, ReceivedSchema)
    @blp.problem(429, "`request.rate_limited`: too many requests for this label or address")
    def post(self, form: dict[str, Any], token: str) -> Any:
        """Report a fault (`multipart/form-data` or a URL-encoded form): a work order opens
        at the labelled asset, for its site and customer, with up to 3 `photos` (JPEG,
        PNG, WebP or HEIC, 5 MiB each). Limited per label and per address
        (`FIELDLINE_REPAIR_RATE_LIMIT`). A photo over 5 MiB is 422
        `request.validation_failed` (`errors[0]`: field `photos`, code `too_long`);
        a form over 15 MiB + 64 KiB in all, or a multipart text field over 500 KB, is 413
        `request.too_large`. Either way no order opens and no photo is kept."""
        return open_request(token, form)


def open_request(token: str, form: dict[str, Any]) -> services.Received:
    """Open the order from a checked form and the request's photos (the API's form
    post and the repair page's alike)."""
    contact = {
        "name": form["contact_name"],
        "phone": form["contact_phone"],
        "email": form.get("contact_email"),
    }
    data = {"description": form["description"], "contact": contact}
    data["website"] = form.get("website")
    return services.open_repair_request(
        new_uow(),
        blob_store(),
        current_app.extensions["fieldline_repair_limiter"],
        token,
        request.remote_addr or "unknown",
        data,
        uploaded_photos(),
        str(state().config.public_url or request.url_root),
    )


def uploaded_photos() -> list[bytes]:
    files = [f for f in request.files.getlist("photos") if f.filename or f.content_length]
    if len(files) > MAX_PHOTOS:
        raise ValidationFailed(
            errors=[FieldProblem("photos", "too_long", f"At most {MAX_PHOTOS} photos")]
        )
    photos = []
    for upload in files:
        data = upload.read(MAX_PHOTO_BYTES + 1)
        if len(data) > MAX_PHOTO_BYTES:
            raise ValidationFailed(
                errors=[FieldProblem("photos", "too_long", "A photo is over 5 MiB")]
            )
        photos.append(data)
    return photos
