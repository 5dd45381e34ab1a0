"""``/v1/offers``, an order's offers, the dispatcher's queue, the tenant's dispatch settings."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.auth.permissions import Permission
from api.dispatching import answers, offer_queries
from api.dispatching.offer_schemas import (
    DeclineSchema,
    DispatchSchema,
    DispatchSettingsSchema,
    OfferListArgs,
    OfferSchema,
    OrderOffersSchema,
)
from api.http.blueprint import Blueprint
from api.http.context import new_uow, read_uow
from api.http.etag import etag_header, if_match
from api.http.guard import current_actor, requires
from api.http.pagination import PageArgs, page_schema
from api.tenants import settings
from api.tracking.routes import app_router

blp = Blueprint(
    "offers", __name__, url_prefix="/v1", description="Auto-dispatch: offers to technicians"
)

_CLOSED = "`offer.closed`: answered, timed out or withdrawn; `offer.expired`: too late; " + (
    "`offer.ineligible`: the technician no longer qualifies (skills, shift, capacity)"
)


@blp.route("/offers")
class Offers(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.arguments(OfferListArgs, location="query")
    @blp.response(200, page_schema(OfferSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Offers, newest first: a technician's own, or (for the office) every one."""
        with read_uow() as uow:
            return offer_queries.list_offers(uow.session, current_actor(), **args)


@blp.route("/offers/<uuid:offer_id>")
class OfferById(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.response(200, OfferSchema)
    def get(self, offer_id: uuid.UUID) -> Any:
        """Read an offer (its ETag guards the answer)."""
        with read_uow() as uow:
            offer = offer_queries.access_offer(uow.session, current_actor(), offer_id)
        return offer, etag_header(offer.version)


@blp.route("/offers/<uuid:offer_id>/accept")
class AcceptOffer(MethodView):
    @requires(Permission.WORK_ORDERS_TRANSITION)
    @if_match
    @blp.response(200, OfferSchema)
    @blp.problem(409, _CLOSED)
    def post(self, offer_id: uuid.UUID, version: int) -> Any:
        """Take the job: the order is assigned to you and accepted, in its history as
        `assign` ("offer accepted") then `accept`. Only your own pending offer, before
        `expires_at`, and only while you still qualify."""
        offer = answers.answer(
            new_uow(),
            current_actor(),
            offer_id,
            accept=True,
            reason=None,
            expected_version=version,
            router=app_router(),
        )
        return offer, etag_header(offer.version)


@blp.route("/offers/<uuid:offer_id>/decline")
class DeclineOffer(MethodView):
    @requires(Permission.WORK_ORDERS_TRANSITION)
    @if_match
    @blp.arguments(DeclineSchema)
    @blp.response(200, OfferSchema)
    @blp.problem(409, _CLOSED)
    def post(self, data: dict[str, Any], offer_id: uuid.UUID, version: int) -> Any:
        """Decline the job with a reason; the next candidate gets an offer."""
        offer = answers.answer(
            new_uow(),
            current_actor(),
            offer_id,
            accept=False,
            reason=data["reason"],
            expected_version=version,
            router=app_router(),
        )
        return offer, etag_header(offer.version)


@blp.route("/work-orders/<uuid:work_order_id>/offers")
class WorkOrderOffers(MethodView):
    @requires(Permission.WORK_ORDERS_UPDATE)
    @blp.response(200, OrderOffersSchema)
    def get(self, work_order_id: uuid.UUID) -> Any:
        """What auto-dispatch did with the order: its dispatch (mode, state, why it was
        queued) and every offer, first first."""
        with read_uow() as uow:
            return offer_queries.order_offers(uow.session, current_actor(), work_order_id)


@blp.route("/dispatch-queue")
class DispatchQueue(MethodView):
    @requires(Permission.WORK_ORDERS_UPDATE)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(DispatchSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """New orders auto-dispatch left to the dispatcher (`queued`, with the reason) or
        proposed a technician for (`suggested`), until someone assigns them."""
        with read_uow() as uow:
            return offer_queries.dispatch_queue(uow.session, current_actor(), **args)


@blp.route("/tenant/dispatch-settings")
class DispatchSettings(MethodView):
    @requires(Permission.TENANT_MANAGE)
    @blp.response(200, DispatchSettingsSchema)
    def get(self) -> Any:
        """What happens to new orders: nothing, a suggestion, offers, or assignment."""
        return settings.tenant_settings(read_uow(), current_actor())

    @requires(Permission.TENANT_MANAGE)
    @blp.arguments(DispatchSettingsSchema)
    @blp.response(200, DispatchSettingsSchema)
    def put(self, values: dict[str, Any]) -> Any:
        """Replace the dispatch settings (audited). Orders already created keep theirs."""
        return settings.set_settings(new_uow(), current_actor(), values, settings.DISPATCH_FIELDS)
