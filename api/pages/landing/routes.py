"""``/``: where each person who opens the server's address is sent on.

Customers follow a repair (a tracking code or link) or report a fault (the QR
label); dispatchers and admins go to the console and its sign-in once those
pages exist (a link appears when its endpoint is registered); developers go to
the API docs. ``/docs`` itself stays the interactive API documentation.
"""

from __future__ import annotations

import re

from flask import current_app, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from api.http.guard import public
from api.pages.blueprint import page_blueprint, render

web = page_blueprint("landing", __name__)

# Pages other surfaces may register; each is linked from here once it exists.
_OFFICE_PLACES = (("console.sign_in", "/sign-in"), ("console.home", "/console"))
_TOKEN = re.compile(r"(?:/t/)?([A-Za-z0-9_-]{32})/?$")


@web.get("/")
@public
def landing() -> BaseResponse:
    office = [path for endpoint, path in _OFFICE_PLACES if endpoint in current_app.view_functions]
    return render("landing/landing.html", office=office)


@web.get("/t")
@public
def follow() -> BaseResponse:
    """The landing page's "follow a repair" form: a pasted link or bare code opens its
    tracking page; anything else comes back with a message."""
    code = (request.args.get("code") or "").strip()
    found = _TOKEN.search(code)
    if found is None:
        return render(
            "landing/landing.html", office=[], code=code[:200], code_invalid=True, status=400
        )
    return redirect(f"/t/{found.group(1)}", code=303)
