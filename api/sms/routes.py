"""``/v1/sms-opt-outs`` and ``/v1/work-orders/{id}/sms-messages``: the office's view of SMS."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.context import new_uow, read_uow, state
from api.http.guard import current_actor, requires
from api.http.pagination import PageArgs, page_schema
from api.sms import services
from api.sms.schemas import OptOutCreateSchema, OptOutSchema, SmsMessageSchema

blp = Blueprint("sms", __name__, url_prefix="/v1", description="Texts to customers (SMS)")


@blp.route("/sms-opt-outs")
class OptOuts(MethodView):
    @requires(Permission.CUSTOMERS_WRITE)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(OptOutSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Numbers this tenant does not text, newest first."""
        with read_uow() as uow:
            return services.list_opt_outs(uow.session, current_actor(), **args)

    @requires(Permission.CUSTOMERS_WRITE)
    @blp.arguments(OptOutCreateSchema)
    @blp.response(201, OptOutSchema)
    @blp.problem(422, "`sms.not_a_mobile_number`")
    def post(self, data: dict[str, Any]) -> Any:
        """Stop texting a number (the customer asked): texts not yet sent to it are not
        sent. Naming an opted-out number again answers its existing opt-out."""
        region = state().config.sms_default_region
        return services.opt_out(new_uow(), current_actor(), data["phone"], region)


@blp.route("/sms-opt-outs/<uuid:opt_out_id>")
class OptOut(MethodView):
    @requires(Permission.CUSTOMERS_WRITE)
    @blp.response(204)
    def delete(self, opt_out_id: uuid.UUID) -> Any:
        """Text the number again (404 `sms.opt_out_not_found`)."""
        services.opt_back_in(new_uow(), current_actor(), opt_out_id)
        return None


@blp.route("/work-orders/<uuid:work_order_id>/sms-messages")
class OrderTexts(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(SmsMessageSchema))
    def get(self, args: dict[str, Any], work_order_id: uuid.UUID) -> Any:
        """What the order's customer was texted, newest first, with each text's status:
        `pending`, `sent`, `failed` (refused for good, or failing past
        `FIELDLINE_SMS_MAX_ATTEMPTS`) or `suppressed` (never sent, `reason` says why).
        The office only."""
        with read_uow() as uow:
            return services.order_texts(uow.session, current_actor(), work_order_id, **args)
