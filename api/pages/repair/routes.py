"""``/r/<token>``: the repair request page (报修) a QR label on an asset opens.

The label names the asset, and through it the site and customer: the page shows
them (pre-filled, not editable) and asks for what only the person knows: what is
wrong, photos, and how to reach them. It posts to itself as an ordinary form
(works without script, on any phone) and calls the same use case as the API's
``POST /r/<token>/repair-requests``; the confirmation shows the work order's
number and its tracking link. A label that was replaced is a 404 page.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from marshmallow import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from api.errors.base import FieldlineError
from api.errors.common import ValidationFailed
from api.http.context import read_uow
from api.http.guard import public
from api.pages import i18n
from api.pages.blueprint import page_blueprint, render
from api.repairs import services
from api.repairs.routes import MAX_FORM_BYTES, open_request
from api.repairs.schemas import RepairFormSchema

web = page_blueprint("repair_page", __name__)

_FIELDS = ("description", "contact_name", "contact_phone", "contact_email", "website")


@web.get("/r/<token>")
@public
def repair_form(token: str) -> BaseResponse:
    return _form(token)


@web.post("/r/<token>")
@public
def repair_request(token: str) -> BaseResponse:
    """The form's post: the confirmation (201), or the form again with what to fix."""
    request.max_content_length = MAX_FORM_BYTES  # up to 3 photos of 5 MiB
    given = {name: request.form.get(name, "").strip() for name in _FIELDS}
    try:
        form = RepairFormSchema().load({k: v for k, v in given.items() if v})
    except ValidationError as error:
        return _form(token, 422, problems=sorted(error.messages), values=given)
    try:
        received = open_request(token, form)
    except ValidationFailed:  # photos: too many, too large
        return _form(token, 422, problems=["photos"], values=given)
    except FieldlineError as refused:
        if not refused.code.startswith("media."):
            raise  # rate limited, label replaced: the error page says so
        return _form(token, 422, problems=["photos"], values=given)
    return render("repair/received.html", 201, received=received)


def _form(token: str, status: int = 200, **context: Any) -> BaseResponse:
    limiter = current_app.extensions["fieldline_tracking_limiter"]
    with read_uow() as uow:
        asset = services.describe_asset(
            uow.session, limiter, token, request.remote_addr or "unknown"
        )
    english = i18n.current() == "en"
    shown = {
        "asset": (english and asset.name_en) or asset.name,
        "site": (english and asset.site_name_en) or asset.site_name,
        "customer": (english and asset.customer_name_en) or asset.customer_name,
    }
    context.setdefault("problems", [])
    context.setdefault("values", {})
    return render("repair/form.html", status, token=token, shown=shown, **context)
