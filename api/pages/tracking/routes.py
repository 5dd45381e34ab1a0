"""``/t/<token>``: the customer's tracking page, public, made for a phone.

It shows what the public tracking API answers (:func:`api.tracking.page.track`,
the same call): a parcel-style timeline with each step's time, the technician's
first name, the ETA and position on a small map only while they are on the way,
the sealed report with its PDF and verification, and the rating form once the
work is done. The page works without script; its script adds the map and keeps
the page fresh while the order is open (``static/live.js``). Where texts are sent,
a button stops them (a form post, like the rating). An unknown token is a friendly
404 page; one that has expired or was revoked a 410.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, request
from marshmallow import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from api.http.context import new_uow, read_uow, state
from api.http.guard import public
from api.live.urls import live_base
from api.pages import i18n
from api.pages.blueprint import error_page, page_blueprint, render
from api.pages.tracking.view import page_context
from api.sms import services as sms_services
from api.tracking import links, page, ratings
from api.tracking.errors import AlreadyRated, NotCompletedYet, TrackingLinkNotFound
from api.tracking.routes import app_router
from api.tracking.schemas import RatingCreateSchema

web = page_blueprint("tracking_page", __name__)


@web.get("/t/<token>")
@public
def tracking(token: str) -> BaseResponse:
    return _page(token, texts_stopped=request.args.get("texts") == "stopped")


@web.post("/t/<token>/sms-opt-out")
@public
def stop_texts(token: str) -> BaseResponse:
    """The "stop text messages" button: the order's numbers opt out of the tenant's texts,
    and back to the page (303), which says so."""
    region = state().config.sms_default_region
    sms_services.opt_out_by_tracking_link(new_uow(), _limiter(), token, _address(), region)
    return redirect(f"/t/{token}?texts=stopped#texts", code=303)


@web.post("/t/<token>/rating")
@public
def rate(token: str) -> BaseResponse:
    """The rating form's post: back to the page (303) once kept, or the page again with
    what to fix (422), or with why it cannot be rated (409)."""
    try:
        data = RatingCreateSchema().load(
            {"score": _score(request.form.get("score")), "comment": request.form.get("comment")}
        )
    except ValidationError as error:
        problem = "comment" if "comment" in error.messages else "score"
        return _page(token, status=422, rating_problem=problem, comment=request.form.get("comment"))
    try:
        ratings.rate_order(new_uow(), _limiter(), token, _address(), data)
    except (NotCompletedYet, AlreadyRated) as refused:
        return _page(token, status=409, rating_refused=refused.titles[i18n.current()])
    return redirect(f"/t/{token}#rating", code=303)


def _page(token: str, status: int = 200, **form: Any) -> BaseResponse:
    viewer = page.Viewer(language=i18n.preference(), address=_address())
    try:
        with read_uow() as uow:
            tracked = page.track(
                uow.session, _limiter(), token, viewer, _public_url(), app_router()
            )
    except TrackingLinkNotFound:
        return _not_found(token)
    i18n.choose(tracked["language"])  # nobody said: the tenant's language
    config = state().config
    context = page_context(tracked, token, config, form)
    if context["refresh_ms"]:
        # The live stream (docs/live.md); the page polls data-source if it cannot open it.
        base = live_base(config.live_url, request.scheme, request.host)
        context["stream_url"] = f"{base}/t/{token}?lang={i18n.current()}"
    return render("tracking/page.html", status, **context)


def _not_found(token: str) -> BaseResponse:
    with read_uow() as uow:
        gone = links.ended(uow.session, token)
    i18n.choose()
    hint = i18n.gettext("Ask the company that sent it for a new link.")
    if gone:
        heading = i18n.gettext("This tracking link has ended")
        message = i18n.gettext(
            "Links stop working some time after the work is done, or when replaced."
        )
        return error_page(410, heading, message, hint)
    heading = i18n.gettext("Tracking link not found")
    message = i18n.gettext("Check that the whole link was copied.")
    return error_page(404, heading, message, hint)


def _score(raw: str | None) -> int | None:
    return int(raw) if raw is not None and raw.isdigit() and len(raw) < 3 else None


def _limiter() -> Any:
    return current_app.extensions["fieldline_tracking_limiter"]


def _address() -> str:
    return request.remote_addr or "unknown"


def _public_url() -> str:
    return str(state().config.public_url or request.url_root)
