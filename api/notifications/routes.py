"""``/v1/notifications``: the caller's own in-app notifications."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.context import new_uow, read_uow
from api.http.guard import current_actor, requires
from api.http.pagination import page_schema
from api.notifications import services
from api.notifications.schemas import (
    MarkedSchema,
    NotificationListArgs,
    NotificationSchema,
    PreferencesSchema,
)

blp = Blueprint("notifications", __name__, url_prefix="/v1", description="In-app notifications")


@blp.route("/notifications")
class Notifications(MethodView):
    @requires(Permission.NOTIFICATIONS_READ)
    @blp.arguments(NotificationListArgs, location="query")
    @blp.response(200, page_schema(NotificationSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """List my notifications, newest first (`unread=true` for the unread ones)."""
        with read_uow() as uow:
            return services.list_notifications(uow.session, current_actor(), **args)


@blp.route("/notifications/<uuid:notification_id>/read")
class NotificationRead(MethodView):
    @requires(Permission.NOTIFICATIONS_READ)
    @blp.response(200, NotificationSchema)
    def post(self, notification_id: uuid.UUID) -> Any:
        """Mark one of my notifications read."""
        return services.mark_read(new_uow(), current_actor(), notification_id)


@blp.route("/notifications/read-all")
class NotificationsReadAll(MethodView):
    @requires(Permission.NOTIFICATIONS_READ)
    @blp.response(200, MarkedSchema)
    def post(self) -> Any:
        """Mark all my notifications read; returns how many changed."""
        return {"marked": services.mark_all_read(new_uow(), current_actor())}


@blp.route("/notification-preferences")
class NotificationPreferences(MethodView):
    @requires(Permission.SELF)
    @blp.response(200, PreferencesSchema)
    def get(self) -> Any:
        """How my notifications reach me outside the app (Web Push: by subscribing a browser)."""
        with read_uow() as uow:
            return {"email": services.email_choice(uow.session, current_actor())}

    @requires(Permission.SELF)
    @blp.arguments(PreferencesSchema)
    @blp.response(200, PreferencesSchema)
    def put(self, data: dict[str, Any]) -> Any:
        """Choose whether my notifications also come by email."""
        return {"email": services.set_email_choice(new_uow(), current_actor(), data["email"])}
