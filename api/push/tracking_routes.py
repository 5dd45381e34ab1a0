"""``/v1/tracking/{token}/push-subscriptions``: Web Push for a tracking link, no account.

What the tracking page's "notify me" button calls (through ``/push-subscribe.js``):
the tenant's VAPID key, then the browser's subscription to the link's order. The
token is the credential, limited like the other public tracking endpoints.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, request
from flask.views import MethodView

from api.http.blueprint import Blueprint
from api.http.context import new_uow, state
from api.http.guard import public
from api.push import tracking
from api.push.schemas import SubscriptionCreateSchema, SubscriptionSchema, VapidKeySchema
from api.push.services import SubscribeCommand
from api.tracking.rules import language_of

blp = Blueprint(
    "tracking_push",
    __name__,
    url_prefix="/v1/tracking",
    description="Web Push from a tracking page (the link is the credential)",
)

_LIMITED = "`request.rate_limited`: too many requests for this link or address"


def _visitor(token: str) -> tracking.Visitor:
    language = language_of(None, request.headers.get("Accept-Language", "zh-CN"))
    return tracking.Visitor(token, request.remote_addr or "unknown", language)


def _limiter() -> Any:
    return current_app.extensions["fieldline_tracking_limiter"]


@blp.route("/<token>/vapid-public-key")
class TrackingVapidKey(MethodView):
    @public
    @blp.doc(security=[])
    @blp.response(200, VapidKeySchema)
    @blp.problem(429, _LIMITED)
    def get(self, token: str) -> Any:
        """The order's company's VAPID public key, for `pushManager.subscribe`. An
        unknown, expired or revoked link is 404 `tracking.link_not_found`."""
        secret = state().config.resolved_secret_key()
        key = tracking.vapid_public_key(new_uow(), _limiter(), _visitor(token), secret)
        return {"public_key": key}


@blp.route("/<token>/push-subscriptions")
class TrackingSubscriptions(MethodView):
    @public
    @blp.doc(security=[])
    @blp.arguments(SubscriptionCreateSchema)
    @blp.response(201, SubscriptionSchema)
    @blp.problem(429, _LIMITED)
    def post(self, data: dict[str, Any], token: str) -> Any:
        """Subscribe this browser to the link's order: a push when a technician is
        assigned, sets off, arrives, finishes, or the order is cancelled, in the
        language of `Accept-Language`. Subscribing the same endpoint again updates it.
        Dropped once the link stops working."""
        command = SubscribeCommand(
            endpoint=data["endpoint"],
            p256dh=data["keys"]["p256dh"],
            auth=data["keys"]["auth"],
            allow_http_loopback=state().config.push_allow_http_loopback,
        )
        return tracking.subscribe(new_uow(), _limiter(), _visitor(token), command)


@blp.route("/<token>/push-subscriptions/<uuid:subscription_id>")
class TrackingSubscriptionById(MethodView):
    @public
    @blp.doc(security=[])
    @blp.response(204)
    @blp.problem(429, _LIMITED)
    def delete(self, token: str, subscription_id: uuid.UUID) -> None:
        """Unsubscribe (404 `push.subscription_not_found` for another order's)."""
        tracking.unsubscribe(new_uow(), _limiter(), _visitor(token), subscription_id)
