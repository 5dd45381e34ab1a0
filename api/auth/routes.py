"""``/v1/auth/*``, ``/v1/me`` and ``/v1/api-keys``."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, request
from flask.views import MethodView

from api.auth import keys, services
from api.auth.permissions import Permission
from api.auth.schemas import (
    ApiKeyCreatedSchema,
    ApiKeyCreateSchema,
    ApiKeySchema,
    LoginSchema,
    MeSchema,
    RefreshSchema,
    SessionListSchema,
    TokenSchema,
)
from api.http.blueprint import Blueprint
from api.http.context import new_uow, read_uow, state
from api.http.guard import current_actor, public, requires
from api.http.pagination import PageArgs, page_schema
from api.users.queries import describe_me

blp = Blueprint(
    "auth", __name__, url_prefix="/v1", description="Log in, tokens, sessions and API keys"
)


def _tokens(issued: services.IssuedTokens) -> dict[str, Any]:
    return {
        "access_token": issued.access_token,
        "refresh_token": issued.refresh_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "session_id": issued.session_id,
    }


@blp.route("/auth/login")
class Login(MethodView):
    @public
    @blp.doc(security=[])
    @blp.problem(401, "Unknown tenant or email, wrong password (`auth.invalid_credentials`)")
    @blp.problem(429, "Too many attempts from this address or on this account (`Retry-After`)")
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Exchange tenant, email and password for an access and a refresh token.

        Rate-limited per client address and per account (429 with `Retry-After`).
        """
        email = data["email"].strip().lower()
        current_app.extensions["fieldline_login_limiter"].hit(
            f"ip:{request.remote_addr}", f"account:{data['tenant']}:{email}"
        )
        command = services.LoginCommand(
            tenant=data["tenant"],
            email=email,
            password=data["password"],
            device_id=data.get("device_id"),
            user_agent=request.headers.get("User-Agent"),
        )
        return _tokens(services.log_in(new_uow(), state().auth_settings, command))


@blp.route("/auth/refresh")
class Refresh(MethodView):
    @public
    @blp.doc(security=[])
    @blp.problem(401, "Refresh token invalid, expired or reused (its session is then revoked)")
    @blp.arguments(RefreshSchema)
    @blp.response(200, TokenSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Trade a refresh token for new tokens. Each refresh token works once;
        reusing one revokes its session."""
        return _tokens(services.refresh(new_uow(), state().auth_settings, data["refresh_token"]))


@blp.route("/auth/logout")
class Logout(MethodView):
    @requires(Permission.SELF)
    @blp.response(204)
    def post(self) -> None:
        """Revoke the current session (its access and refresh tokens stop working)."""
        actor = current_actor()
        assert actor.session_id is not None  # SELF is held by people, who log in
        services.revoke_session(new_uow(), actor, actor.session_id, "logout")


@blp.route("/auth/sessions")
class Sessions(MethodView):
    @requires(Permission.SELF)
    @blp.response(200, SessionListSchema)
    def get(self) -> Any:
        """List the caller's active sessions (one per device), newest first."""
        return {"items": services.list_sessions(read_uow(), current_actor()), "next_cursor": None}


@blp.route("/auth/sessions/<uuid:session_id>")
class SessionById(MethodView):
    @requires(Permission.SELF)
    @blp.response(204)
    def delete(self, session_id: uuid.UUID) -> None:
        """Revoke one of the caller's sessions, e.g. a lost phone. Admins may revoke anyone's."""
        services.revoke_session(new_uow(), current_actor(), session_id, "revoked")


@blp.route("/me")
class Me(MethodView):
    @requires(Permission.SELF)
    @blp.response(200, MeSchema)
    def get(self) -> Any:
        """Who am I: the caller's user, role and linked technician or customer."""
        with read_uow() as uow:
            return describe_me(uow.session, current_actor())


@blp.route("/api-keys")
class ApiKeys(MethodView):
    @requires(Permission.API_KEYS_MANAGE)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(ApiKeySchema))
    def get(self, args: dict[str, Any]) -> Any:
        """List the tenant's API keys (never their secrets)."""
        return keys.list_api_keys(read_uow(), current_actor(), **args)

    @requires(Permission.API_KEYS_MANAGE)
    @blp.arguments(ApiKeyCreateSchema)
    @blp.response(201, ApiKeyCreatedSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create an API key for an integration. The key is returned once."""
        key, secret = keys.create_api_key(new_uow(), current_actor(), data)
        return {**{c: getattr(key, c) for c in ApiKeySchema().fields}, "key": secret}


@blp.route("/api-keys/<uuid:key_id>")
class ApiKeyById(MethodView):
    @requires(Permission.API_KEYS_MANAGE)
    @blp.response(204)
    def delete(self, key_id: uuid.UUID) -> None:
        """Revoke an API key; it stops working at once."""
        keys.revoke_api_key(new_uow(), current_actor(), key_id)
