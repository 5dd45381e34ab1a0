"""A browser's session with the office pages: cookies, and when the API accepts them.

The console (``/console``) is a web page whose script calls the same ``/v1`` API
as every other client. Its access token lives in an HttpOnly cookie set by the
page's sign-in (:mod:`api.pages.console.session`), never where a script could read
it, so a script injected despite the Content-Security-Policy cannot carry the
token away. A cookie is sent by the browser on its own, which is what cross-site
request forgery abuses; so on the API the cookie authenticates a request **only**
together with the ``X-CSRF-Token`` header equal to the session's CSRF cookie
(double submit). Another site can neither read that value nor set a custom
header on a cross-origin request without a CORS preflight this server never
grants, and the cookies are ``SameSite=Strict`` besides. Requests with an
``Authorization`` header never look at cookies.
"""

from __future__ import annotations

import hmac

from flask import Request

SESSION_COOKIE = "fieldline_session"  # the access token (path /)
REFRESH_COOKIE = "fieldline_refresh"  # the refresh token (path /console only)
CSRF_COOKIE = "fieldline_csrf"  # the double-submit value (path /)
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"  # the same value in a page's form posts


def api_credential(request: Request) -> str | None:
    """The access token of a browser session, if the request proves it came from one
    of this server's pages (the CSRF header matches); None otherwise."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or not csrf_matches(request, request.headers.get(CSRF_HEADER)):
        return None
    return token


def csrf_matches(request: Request, sent: str | None) -> bool:
    expected = request.cookies.get(CSRF_COOKIE) or ""
    return bool(sent) and len(expected) >= 32 and hmac.compare_digest(sent or "", expected)
