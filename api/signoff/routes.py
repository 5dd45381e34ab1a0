"""``/v1/work-orders/{id}/sign-off``: the customer's signature or refusal, and its image.

Devices usually record it through sync (the ``sign_off`` mutation); this endpoint
is the same use case online. A sign-off is immutable: no ETag, no update.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response
from flask.views import MethodView

from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.context import new_uow, read_uow
from api.http.guard import current_actor, requires
from api.http.idempotency import idempotent
from api.signoff import queries, services
from api.signoff.errors import SignOffNotFound
from api.signoff.schemas import SignOffCreateSchema, SignOffSchema
from signatures.render import render_png, render_svg
from signatures.strokes import Drawing, read_drawing

blp = Blueprint(
    "signoff",
    __name__,
    url_prefix="/v1",
    description="Sign-off: the customer's stroke signature (or recorded refusal) on a work order",
)


@blp.route("/work-orders/<uuid:work_order_id>/sign-off")
class WorkOrderSignOffView(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.response(200, SignOffSchema)
    def get(self, work_order_id: uuid.UUID) -> Any:
        """The order's sign-off (404 `signoff.not_found` when there is none yet)."""
        with read_uow() as uow:
            return queries.access_sign_off(uow.session, current_actor(), work_order_id)

    @requires(Permission.WORK_ORDERS_TRANSITION)
    @idempotent
    @blp.arguments(SignOffCreateSchema)
    @blp.response(201, SignOffSchema)
    @blp.problem(409, "`signoff.already_recorded`: the order has one already")
    def post(self, data: dict[str, Any], work_order_id: uuid.UUID) -> Any:
        """Record the signature (`outcome: signed`, with `drawing` and `consent_text`) or the
        refusal (`outcome: refused`, with `refusal_reason`). Bad drawings are 422 with field
        codes `signature_*`."""
        return services.sign_off_online(new_uow(), current_actor(), work_order_id, data)


@blp.route("/work-orders/<uuid:work_order_id>/sign-off/signature.svg")
class SignatureSvg(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.response(200, description="The signature drawn again", content_type="image/svg+xml")
    def get(self, work_order_id: uuid.UUID) -> Any:
        """The signature as SVG (404 `signoff.not_found` for a refusal)."""
        drawing, digest = _drawing(work_order_id)
        return _image(render_svg(drawing).encode(), "image/svg+xml", digest)


@blp.route("/work-orders/<uuid:work_order_id>/sign-off/signature.png")
class SignaturePng(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.response(200, description="The signature drawn again", content_type="image/png")
    def get(self, work_order_id: uuid.UUID) -> Any:
        """The signature as PNG on white, at most 600 px wide (404 for a refusal)."""
        drawing, digest = _drawing(work_order_id)
        return _image(render_png(drawing), "image/png", digest)


def _drawing(work_order_id: uuid.UUID) -> tuple[Drawing, str]:
    with read_uow() as uow:
        row = queries.access_sign_off(uow.session, current_actor(), work_order_id)
        if row.drawing is None or row.signature_sha256 is None:
            raise SignOffNotFound("The customer refused to sign")
        return read_drawing(row.drawing), row.signature_sha256


def _image(data: bytes, mimetype: str, digest: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(digest)
    return response
