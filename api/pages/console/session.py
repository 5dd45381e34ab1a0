"""The office's browser session: signing in and out, and who a page is shown to.

Signing in posts the form to the server (it works without script), which logs in
through the same service as ``POST /v1/auth/login`` and keeps the tokens in
cookies no script can read (HttpOnly; ``Secure`` over HTTPS; ``SameSite=Strict``):

- ``fieldline_session``: the access token, for every path (pages and ``/v1``);
- ``fieldline_refresh``: the refresh token, sent only to ``/console`` paths, so it
  never travels with an API call;
- ``fieldline_csrf``: a random value the pages repeat in their forms and the
  console's script in its ``X-CSRF-Token`` header (see :mod:`api.http.browser_session`).

Only dispatchers and admins may use the console: anyone else who signs in gets a
friendly refusal and their new session is revoked at once. An access token lives
15 minutes; a page opened later is refreshed on the server from the refresh
cookie, and the console's script asks ``/console/session`` for a new one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import Request, request
from werkzeug.wrappers import Response

from api.auth import services as auth_services
from api.auth.actor import Actor
from api.auth.errors import InvalidRefreshToken, RefreshTokenReused
from api.auth.permissions import Role
from api.http.browser_session import CSRF_COOKIE, REFRESH_COOKIE, SESSION_COOKIE
from api.http.context import new_uow, read_connection, state

OFFICE_ROLES = (Role.ADMIN, Role.DISPATCHER)
REFRESH_PATH = "/console"


@dataclass(frozen=True)
class PageSession:
    """Who is looking at a page, and the tokens to set if they were just refreshed."""

    actor: Actor
    refreshed: auth_services.IssuedTokens | None = None


def current(req: Request) -> PageSession | None:
    """The signed-in person of this request (refreshing an expired access token from
    the refresh cookie where the browser sends it), or None."""
    fieldline = state()
    token = req.cookies.get(SESSION_COOKIE)
    if token:
        actor = auth_services.identify(
            fieldline.uow, fieldline.auth_settings, token, read_connection, fieldline.session_cache
        )
        if actor is not None and actor.session_id is not None:
            return PageSession(actor)
    refresh = req.cookies.get(REFRESH_COOKIE)
    if not refresh:
        return None
    try:
        issued = auth_services.refresh(new_uow(), fieldline.auth_settings, refresh)
    except (InvalidRefreshToken, RefreshTokenReused):
        return None
    return PageSession(actor_of(issued), issued)


def actor_of(issued: auth_services.IssuedTokens) -> Actor:
    user = issued.user
    return Actor(
        tenant_id=user.tenant_id,
        role=Role(user.role),
        user_id=user.id,
        session_id=issued.session_id,
    )


def is_office(actor: Actor) -> bool:
    return actor.role in OFFICE_ROLES


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


def csrf_value(req: Request) -> str:
    """The request's CSRF value, or a new one (which :func:`keep_csrf` must then set)."""
    existing = req.cookies.get(CSRF_COOKIE) or ""
    return existing if len(existing) >= 32 else new_csrf()


def keep_csrf(response: Response, value: str) -> None:
    if request.cookies.get(CSRF_COOKIE) != value:
        _set(response, CSRF_COOKIE, value, "/")


def keep_tokens(response: Response, issued: auth_services.IssuedTokens) -> None:
    _set(response, SESSION_COOKIE, issued.access_token, "/")
    _set(response, REFRESH_COOKIE, issued.refresh_token, REFRESH_PATH)


def forget(response: Response) -> None:
    """Signed out: every cookie of the session goes (the language stays)."""
    for name, path in ((SESSION_COOKIE, "/"), (REFRESH_COOKIE, REFRESH_PATH), (CSRF_COOKIE, "/")):
        response.delete_cookie(
            name, path=path, secure=request.is_secure, httponly=True, samesite="Strict"
        )


def _set(response: Response, name: str, value: str, path: str) -> None:
    # No max-age: the cookies end with the browser session; the refresh token's own
    # 30-day expiry still applies on the server.
    response.set_cookie(
        name, value, path=path, secure=request.is_secure, httponly=True, samesite="Strict"
    )
