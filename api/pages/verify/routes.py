"""``/v/<token>``: the page behind the QR code printed on a service report.

Whoever holds the paper learns whether the report the server keeps still matches
its seal (valid), does not (tampered: changed after sealing), or was replaced by
a newer version (amended), in zh-CN or en. It answers what the public JSON check
``/v/<token>/verification`` answers (:func:`api.signoff.sealing.public_verification`),
never the report's content. An unknown token is a 404 page.
"""

from __future__ import annotations

from flask import current_app, request
from werkzeug.wrappers import Response as BaseResponse

from api.http.context import read_uow
from api.http.guard import public
from api.pages.blueprint import page_blueprint, render
from api.signoff import sealing

web = page_blueprint("verify_page", __name__)


@web.get("/v/<token>")
@public
def verification(token: str) -> BaseResponse:
    limiter = current_app.extensions["fieldline_tracking_limiter"]
    with read_uow() as uow:
        checked = sealing.public_verification(
            uow.session, limiter, token, request.remote_addr or "unknown"
        )
    if not checked["valid"]:
        verdict = "tampered"
    else:
        verdict = "amended" if checked["superseded"] else "valid"
    response = render("verify/page.html", v=checked, verdict=verdict, token=token)
    response.headers["Cache-Control"] = "no-cache"  # a later amendment changes the answer
    return response
