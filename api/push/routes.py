"""``/v1/push``: the tenant's VAPID public key and the caller's browser subscriptions."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.context import new_uow, state
from api.http.guard import current_actor, requires
from api.push import services
from api.push.schemas import SubscriptionCreateSchema, SubscriptionSchema, VapidKeySchema

blp = Blueprint("push", __name__, url_prefix="/v1/push", description="Web Push subscriptions")


@blp.route("/vapid-public-key")
class VapidPublicKey(MethodView):
    @requires(Permission.SELF)
    @blp.response(200, VapidKeySchema)
    def get(self) -> Any:
        """The tenant's VAPID public key, to pass to `pushManager.subscribe`."""
        secret = state().config.resolved_secret_key()
        return {"public_key": services.vapid_public_key(new_uow(), current_actor(), secret)}


@blp.route("/subscriptions")
class Subscriptions(MethodView):
    @requires(Permission.SELF)
    @blp.arguments(SubscriptionCreateSchema)
    @blp.response(201, SubscriptionSchema)
    @blp.problem(422, "`push.endpoint_refused` (not https), `request.validation_failed` (keys)")
    def post(self, data: dict[str, Any]) -> Any:
        """Subscribe this browser: my notifications are pushed to it from now on.

        Subscribing an endpoint again replaces its keys and makes it mine."""
        command = services.SubscribeCommand(
            endpoint=data["endpoint"],
            p256dh=data["keys"]["p256dh"],
            auth=data["keys"]["auth"],
            allow_http_loopback=state().config.push_allow_http_loopback,
        )
        return services.subscribe(new_uow(), current_actor(), command)


@blp.route("/subscriptions/<uuid:subscription_id>")
class SubscriptionById(MethodView):
    @requires(Permission.SELF)
    @blp.response(204)
    def delete(self, subscription_id: uuid.UUID) -> None:
        """Unsubscribe one of my browsers."""
        services.unsubscribe(new_uow(), current_actor(), subscription_id)
