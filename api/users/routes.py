"""``/v1/users``: the people of a tenant (admins manage them)."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.context import new_uow, read_uow
from api.http.etag import etag_header, if_match
from api.http.guard import current_actor, requires
from api.http.idempotency import idempotent
from api.http.pagination import page_schema
from api.users import queries, services
from api.users.schemas import UserCreateSchema, UserListArgs, UserSchema, UserUpdateSchema

blp = Blueprint("users", __name__, url_prefix="/v1", description="Users and their roles")


@blp.route("/users")
class Users(MethodView):
    @requires(Permission.USERS_READ)
    @blp.arguments(UserListArgs, location="query")
    @blp.response(200, page_schema(UserSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """List users, oldest first, optionally by role."""
        with read_uow() as uow:
            return queries.list_users(uow.session, current_actor(), **args)

    @requires(Permission.USERS_WRITE)
    @idempotent
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a user. Technicians and customer contacts are linked to their record."""
        user = services.create_user(new_uow(), current_actor(), data)
        return user, etag_header(user.version)


@blp.route("/users/<uuid:user_id>")
class UserById(MethodView):
    @requires(Permission.USERS_READ)
    @blp.response(200, UserSchema)
    def get(self, user_id: uuid.UUID) -> Any:
        """Read a user."""
        with read_uow() as uow:
            user = queries.access_user(uow.session, current_actor(), user_id)
        return user, etag_header(user.version)

    @requires(Permission.USERS_WRITE)
    @if_match
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    def patch(self, changes: dict[str, Any], user_id: uuid.UUID, version: int) -> Any:
        """Change a user (role, password, deactivate). Role, password and activity
        changes sign the user out everywhere. Needs `If-Match`."""
        user = services.update_user(new_uow(), current_actor(), user_id, version, changes)
        return user, etag_header(user.version)
