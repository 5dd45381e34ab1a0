"""Who may call an endpoint.

Every view method is decorated with exactly one of :func:`requires` (a
permission) or :func:`public` (no credentials, e.g. login). A test walks the
URL map and fails on any view that has neither, so an endpoint cannot ship
without a declared permission.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request

from api.auth import services as auth_services
from api.auth.actor import Actor
from api.auth.permissions import Permission
from api.errors.common import AuthRequired, InvalidToken, PermissionDenied
from api.http import browser_session
from api.http.context import read_connection, state

F = TypeVar("F", bound=Callable[..., Any])

PERMISSION_ATTR = "__fieldline_permission__"
PUBLIC = "public"


def requires(permission: Permission) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            actor = authenticate()
            if not actor.can(permission):
                raise PermissionDenied()
            return view(*args, **kwargs)

        setattr(guarded, PERMISSION_ATTR, permission)
        return guarded  # type: ignore[return-value]

    return decorate


def public(view: F) -> F:
    setattr(view, PERMISSION_ATTR, PUBLIC)
    return view


def authenticate() -> Actor:
    """The caller, from ``Authorization: Bearer`` (or a console page's session cookie with
    its CSRF header: :mod:`api.http.browser_session`); 401 if absent or invalid."""
    cached = g.get("actor")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    if not header:
        # A console page's script: its session cookie, with the CSRF header.
        credential = browser_session.api_credential(request) or ""
        scheme = "bearer"
        if not credential:
            raise AuthRequired(headers={"WWW-Authenticate": 'Bearer realm="fieldline"'})
    if scheme.lower() != "bearer" or not credential.strip():
        raise InvalidToken(headers={"WWW-Authenticate": 'Bearer error="invalid_request"'})
    fieldline = state()
    actor = auth_services.identify(
        fieldline.uow,
        fieldline.auth_settings,
        credential.strip(),
        read_connection,
        fieldline.session_cache,
    )
    if actor is None:
        raise InvalidToken(headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    g.actor = actor
    return actor


def current_actor() -> Actor:
    return authenticate()
