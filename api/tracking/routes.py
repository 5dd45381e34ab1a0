"""Tracking links on an order (office, customer contact) and the public tracking API.

``/v1/tracking/{token}`` is what the customer's page (``/t/{token}``) calls: no
account, the token is the credential, and nothing answered names an internal id.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, current_app, request, send_file
from flask.views import MethodView

from api.auth.permissions import Permission
from api.errors.problem import negotiate_language
from api.http.blueprint import Blueprint
from api.http.context import blob_store, new_uow, read_uow, state
from api.http.guard import current_actor, public, requires
from api.http.idempotency import idempotent
from api.sms import services as sms_services
from api.tracking import links, page, ratings
from api.tracking.schemas import (
    RatingCreateSchema,
    RatingSchema,
    SharedLinkSchema,
    TechnicianPhotoArgs,
    TrackingArgs,
    TrackingSchema,
)
from dispatch.routing import Router

blp = Blueprint(
    "tracking", __name__, url_prefix="/v1", description="Customer tracking links and CSAT ratings"
)

_LIMITED = "`request.rate_limited`: too many requests for this link or address"


def _public_url() -> str:
    return str(state().config.public_url or request.url_root)


def app_router() -> Router:
    """The app's travel-time estimator, made once (it keeps its HTTP connections)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    router: Router | None = app.extensions.get("fieldline_router")
    if router is None:
        router = state().config.open_router()
        app.extensions["fieldline_router"] = router
    return router


def _limiter() -> Any:
    return current_app.extensions["fieldline_tracking_limiter"]


def _address() -> str:
    return request.remote_addr or "unknown"


@blp.route("/work-orders/<uuid:work_order_id>/tracking-link")
class WorkOrderTrackingLink(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.response(200, SharedLinkSchema)
    def get(self, work_order_id: uuid.UUID) -> Any:
        """The order's working tracking link, to share again (404 `tracking.no_link`).
        Office and the order's customer contacts."""
        with read_uow() as uow:
            return links.current_link(uow.session, current_actor(), work_order_id, _public_url())

    @requires(Permission.WORK_ORDERS_READ)
    @idempotent
    @blp.response(201, SharedLinkSchema)
    def post(self, work_order_id: uuid.UUID) -> Any:
        """Make a tracking link for the customer: unguessable, public, expiring 30 days
        after it is made or 14 days after the order ends, whichever comes first. Each
        call rotates: the order's earlier links stop working. Office and the order's
        customer contacts. With `Idempotency-Key`, a retry after a lost answer gets the
        same link instead of rotating again."""
        return links.create_link(new_uow(), current_actor(), work_order_id, _public_url())

    @requires(Permission.WORK_ORDERS_READ)
    @blp.response(204)
    def delete(self, work_order_id: uuid.UUID) -> Any:
        """Revoke the order's tracking links (they answer 404 from then on)."""
        links.revoke_links(new_uow(), current_actor(), work_order_id)
        return None


@blp.route("/work-orders/<uuid:work_order_id>/rating")
class WorkOrderRating(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.response(200, RatingSchema)
    def get(self, work_order_id: uuid.UUID) -> Any:
        """The customer's rating of the order (404 `tracking.not_rated` until given)."""
        with read_uow() as uow:
            return ratings.order_rating(uow.session, current_actor(), work_order_id)


@blp.route("/tracking/<token>")
class Tracking(MethodView):
    @public
    @blp.doc(security=[])
    @blp.arguments(TrackingArgs, location="query")
    @blp.response(200, TrackingSchema)
    @blp.problem(429, _LIMITED)
    def get(self, args: dict[str, Any], token: str) -> Any:
        """The parcel-style timeline behind a tracking link: steps with their times, the
        technician's first name, the site's city, the position and ETA while the
        technician is on the way, the sealed report's verification, the rating. An
        unknown, expired or revoked token is 404 `tracking.link_not_found`. Limited per
        link and per address (`FIELDLINE_TRACKING_RATE_LIMIT`)."""
        asked = args["lang"] or (
            negotiate_language() if request.headers.get("Accept-Language") else None
        )
        viewer = page.Viewer(language=asked, address=_address())
        with read_uow() as uow:
            body = page.track(uow.session, _limiter(), token, viewer, _public_url(), app_router())
        return body, 200, {"Cache-Control": "no-store"}


@blp.route("/tracking/<token>/report/pdf")
class TrackingReportPdf(MethodView):
    @public
    @blp.doc(security=[])
    @blp.response(200, description="The sealed service report", content_type="application/pdf")
    @blp.problem(409, "`report.pdf_not_ready`: the worker has not rendered it yet")
    @blp.problem(429, _LIMITED)
    def get(self, token: str) -> Any:
        """The finished order's sealed service report as PDF (its latest version, in the
        tenant's language; `ETag` is its SHA-256). 404 `tracking.no_report` until a
        report is sealed."""
        with read_uow() as uow:
            found = page.report_pdf(uow.session, blob_store(), _limiter(), token, _address())
        response = Response(found.data, mimetype="application/pdf")
        response.set_etag(found.sha256)
        response.headers["Content-Disposition"] = f'inline; filename="{found.filename}"'
        return response


@blp.route("/tracking/<token>/technician-photo")
class TrackingTechnicianPhoto(MethodView):
    @public
    @blp.doc(security=[])
    @blp.arguments(TechnicianPhotoArgs, location="query")
    @blp.response(200, description="The technician's portrait", content_type="image/webp")
    @blp.problem(429, _LIMITED)
    def get(self, args: dict[str, Any], token: str) -> Any:
        """The assigned technician's portrait (320 px square WebP, without EXIF), only
        while the order is open: 404 `tracking.no_technician_photo` when they have none,
        before anyone is assigned, and once the order is finished or cancelled. The
        tracking view's `technician.photo_url` points here."""
        with read_uow() as uow:
            stream, sha256 = page.technician_photo(
                uow.session, blob_store(), _limiter(), token, _address()
            )
        response = send_file(stream, mimetype="image/webp", etag=sha256)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.cache_control.private = True
        response.cache_control.max_age = 300  # the order may end, or go to someone else
        return response


@blp.route("/tracking/<token>/rating")
class TrackingRating(MethodView):
    @public
    @blp.doc(security=[])
    @blp.arguments(RatingCreateSchema)
    @blp.response(201, RatingSchema)
    @blp.problem(409, "`tracking.not_completed`, `tracking.already_rated`")
    @blp.problem(429, _LIMITED)
    def post(self, data: dict[str, Any], token: str) -> Any:
        """Rate the finished work (1 to 5, with an optional comment of up to 1000
        characters), once per order: 409 `tracking.not_completed` before the work is
        done, `tracking.already_rated` after a first rating."""
        return ratings.rate_order(new_uow(), _limiter(), token, _address(), data)


@blp.route("/tracking/<token>/sms-opt-out")
class TrackingSmsOptOut(MethodView):
    @public
    @blp.doc(security=[])
    @blp.response(204)
    @blp.problem(429, _LIMITED)
    def post(self, token: str) -> Any:
        """The customer asks for no more texts: the numbers the order texts opt out of
        the tenant's texts (the office sees them as opt-outs with source `tracking`).
        Asking again is harmless."""
        region = state().config.sms_default_region
        sms_services.opt_out_by_tracking_link(new_uow(), _limiter(), token, _address(), region)
        return None
