"""``/sign-in``, ``/console`` and ``/console/sign-out``: the office's pages.

The sign-in form posts here (no script needed) and the session is kept in
HttpOnly cookies (:mod:`api.pages.console.session`; why, in docs/web.md). The
console itself is a page whose scripts draw the map and the list from the same
``/v1`` API every client uses, sending the session cookie with the CSRF header;
the server renders what does not move (the filters' choices, every text of the
page in the person's language). People who are not dispatchers or admins are
told so on a page of their own, never shown the console.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from api.auth import services as auth_services
from api.auth.errors import InvalidCredentials, InvalidRefreshToken, RefreshTokenReused
from api.http.browser_session import CSRF_FIELD, CSRF_HEADER, REFRESH_COOKIE, csrf_matches
from api.http.context import new_uow, state
from api.http.guard import public
from api.pages import i18n
from api.pages.blueprint import error_page, page_blueprint, render
from api.pages.console import session
from api.pages.console.view import console_context

web = page_blueprint("console", __name__)

_FIELD_LIMITS = {"tenant": 63, "email": 254, "password": 256}


@web.get("/sign-in")
@public
def sign_in() -> BaseResponse:
    found = session.current(request)
    if found is not None and session.is_office(found.actor):
        return _with_session(redirect("/console", code=303), found)
    return _form(signed_out=request.args.get("signed_out") == "1")


@web.post("/sign-in")
@public
def sign_in_post() -> BaseResponse:
    """The form's post: to the console (303) with the session's cookies, or the form
    again with what went wrong; people who are not office staff get a refusal page."""
    fields = {name: (request.form.get(name) or "").strip() for name in ("tenant", "email")}
    password = request.form.get("password") or ""
    if not csrf_matches(request, request.form.get(CSRF_FIELD)):
        return _form(400, problem="expired", **fields)
    if not all(fields.values()) or not password or _too_long({**fields, "password": password}):
        shown = {name: value[: _FIELD_LIMITS[name]] for name, value in fields.items()}
        return _form(422, problem="missing", **shown)
    email = fields["email"].lower()
    current_app.extensions["fieldline_login_limiter"].hit(
        f"ip:{request.remote_addr}", f"account:{fields['tenant']}:{email}"
    )
    command = auth_services.LoginCommand(
        tenant=fields["tenant"],
        email=email,
        password=password,
        user_agent=request.headers.get("User-Agent"),
    )
    try:
        issued = auth_services.log_in(new_uow(), state().auth_settings, command)
    except InvalidCredentials:
        return _form(401, problem="credentials", **fields)
    actor = session.actor_of(issued)
    if not session.is_office(actor):
        auth_services.revoke_session(new_uow(), actor, issued.session_id, "logout")
        return _refused()
    response = redirect("/console", code=303)
    session.keep_tokens(response, issued)
    session.keep_csrf(response, session.new_csrf())  # a new value with every session
    return response


@web.post("/console/sign-out")
@public
def sign_out() -> BaseResponse:
    """Ends the session on the server (its tokens stop working) and forgets the cookies.
    Under ``/console`` so that the refresh cookie comes too: a session whose access
    token has expired is still found, and revoked."""
    if not csrf_matches(request, request.form.get(CSRF_FIELD)):
        return error_page(
            400,
            i18n.gettext("This form has expired"),
            i18n.gettext("Reload the page and try again."),
        )
    found = session.current(request)
    if found is not None and found.actor.session_id is not None:
        auth_services.revoke_session(new_uow(), found.actor, found.actor.session_id, "logout")
    response = redirect("/sign-in?signed_out=1", code=303)
    session.forget(response)
    return response


@web.get("/console")
@public
def home() -> BaseResponse:
    found = session.current(request)
    if found is None:
        return redirect("/sign-in", code=303)
    if not session.is_office(found.actor):
        return _refused()
    csrf = session.csrf_value(request)
    response = render("console/console.html", **console_context(found.actor, csrf))
    session.keep_csrf(response, csrf)
    return _with_session(response, found)


@web.post("/console/session")
@public
def refresh() -> BaseResponse:
    """The console script's refresh: new tokens in the cookies (204), or 401 when the
    session has ended (the script then goes to the sign-in page)."""
    refresh_token = request.cookies.get(REFRESH_COOKIE)
    if not refresh_token or not csrf_matches(request, request.headers.get(CSRF_HEADER)):
        return BaseResponse(status=401)
    try:
        issued = auth_services.refresh(new_uow(), state().auth_settings, refresh_token)
    except (InvalidRefreshToken, RefreshTokenReused):
        response = BaseResponse(status=401)
        session.forget(response)
        return response
    response = BaseResponse(status=204)
    session.keep_tokens(response, issued)
    return response


def _form(status: int = 200, **context: Any) -> BaseResponse:
    csrf = session.csrf_value(request)
    response = render("console/sign_in.html", status, csrf_token=csrf, **context)
    session.keep_csrf(response, csrf)
    return response


def _refused() -> BaseResponse:
    response = error_page(
        403,
        i18n.gettext("The console is for dispatchers and administrators"),
        i18n.gettext("You are signed in with an account that cannot use the console."),
        i18n.gettext(
            "Technicians: your jobs are in the Fieldline app on your phone. "
            "Customers: follow your repair with the link you received."
        ),
    )
    session.forget(response)
    return response


def _with_session(response: BaseResponse, found: session.PageSession) -> BaseResponse:
    if found.refreshed is not None:
        session.keep_tokens(response, found.refreshed)
    return response


def _too_long(values: dict[str, str]) -> bool:
    return any(len(values[name]) > limit for name, limit in _FIELD_LIMITS.items())
