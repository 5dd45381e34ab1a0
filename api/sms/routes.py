"""``/v1/sms-opt-outs`` and ``/v1/work-orders/{id}/sms-messages``: the office's view of SMS;
``/v1/sms/replies/...``: customers' replies, pushed by the provider."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request
from flask.views import MethodView

from api.auth.permissions import Permission
from api.errors.common import RouteNotFound
from api.http.blueprint import Blueprint
from api.http.context import new_uow, read_uow, state
from api.http.guard import current_actor, public, requires
from api.http.pagination import PageArgs, page_schema
from api.sms import replies, services
from api.sms.schemas import (
    AliyunAckSchema,
    AliyunReplySchema,
    OptOutCreateSchema,
    OptOutSchema,
    ReplyHookSchema,
    SmsMessageSchema,
)

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


@blp.route("/sms/reply-hook")
class ReplyHook(MethodView):
    @requires(Permission.TENANT_MANAGE)
    @blp.response(200, ReplyHookSchema)
    def get(self) -> Any:
        """Where the SMS provider is to push customers' replies for this tenant (admins).
        Set it in Alibaba Cloud's SMS console as the HTTP batch push address of uplink
        messages (上行消息, SmsUp). A reply of TD or 退订 then opts the number out."""
        tenant_id = current_actor().tenant_id
        token = replies.reply_token(state().auth_settings.secret_key, tenant_id)
        base = str(state().config.public_url or request.url_root).rstrip("/")
        return {"aliyun_url": f"{base}/v1/sms/replies/aliyun/{tenant_id}/{token}"}


@blp.route("/sms/replies/aliyun/<uuid:tenant_id>/<token>")
class AliyunReplies(MethodView):
    @public
    @blp.doc(security=[])
    @blp.response(200, AliyunAckSchema)
    def get(self, tenant_id: uuid.UUID, token: str) -> Any:
        """The console's check that the address answers (404 if the secret is wrong)."""
        _check(tenant_id, token)
        return {"code": 0, "msg": "成功"}

    @public
    @blp.doc(security=[])
    @blp.arguments(AliyunReplySchema(many=True))
    @blp.response(200, AliyunAckSchema)
    def post(self, data: list[dict[str, Any]], tenant_id: uuid.UUID, token: str) -> Any:
        """Alibaba Cloud's push of customers' replies (a JSON array of uplink messages).
        A reply that says TD, 退订 or STOP opts its number out for the tenant; others
        are ignored. The path's secret is the credential (the pushes are not signed):
        a wrong one is 404 `request.not_found`. Pushing the same reply again is harmless."""
        _check(tenant_id, token)
        found = [replies.Reply(item["phone_number"], item["content"]) for item in data]
        region = state().config.sms_default_region
        replies.take_replies(new_uow(), tenant_id, found, region)
        return {"code": 0, "msg": "接收成功"}


def _check(tenant_id: uuid.UUID, token: str) -> None:
    if not replies.token_matches(state().auth_settings.secret_key, tenant_id, token):
        raise RouteNotFound()
