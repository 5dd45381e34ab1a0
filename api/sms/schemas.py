"""SMS schemas. Numbers are E.164 (``+8613800138000``)."""

from __future__ import annotations

from marshmallow import EXCLUDE, fields, validate

from api.http.schemas import Schema, UTCDateTime
from api.sms.models import SmsStatus


class OptOutCreateSchema(Schema):
    phone = fields.String(
        required=True,
        validate=validate.Length(min=3, max=40),
        metadata={"description": "A mobile number; without a country code, read as Chinese"},
    )


class OptOutSchema(Schema):
    id = fields.UUID()
    phone = fields.String(metadata={"description": "E.164"})
    source = fields.String(
        metadata={
            "description": "`office` (asked for here), `reply` (the customer replied TD/退订), "
            "`tracking` (asked on the tracking page) or `provider` (the provider reports "
            "the recipient opted out, e.g. replied STOP to Twilio)"
        }
    )
    created_at = UTCDateTime()


class SmsMessageSchema(Schema):
    id = fields.UUID()
    phone = fields.String(metadata={"description": "E.164"})
    kind = fields.String(
        metadata={"description": "assigned, en_route, en_route_eta, completed or cancelled"}
    )
    locale = fields.String()
    body = fields.String(metadata={"description": "The words sent, with the tracking link"})
    status = fields.Enum(SmsStatus, by_value=True)
    reason = fields.String(
        allow_none=True,
        metadata={
            "description": "Why it was suppressed (`opted_out`, `rate_limited`, `no_template`) "
            "or failed (the provider's code, or the last transient error)"
        },
    )
    provider = fields.String()
    provider_message_id = fields.String(allow_none=True)
    attempts = fields.Integer()
    created_at = UTCDateTime()
    finished_at = UTCDateTime(allow_none=True)


class AliyunReplySchema(Schema):
    """One uplink message (``SmsUp``) as Alibaba Cloud's HTTP batch push sends it. The
    provider's fields, not ours: fields it adds later are ignored, not refused."""

    class Meta:
        unknown = EXCLUDE

    phone_number = fields.String(required=True, validate=validate.Length(max=40))
    content = fields.String(required=True, validate=validate.Length(max=2000))
    send_time = fields.String(validate=validate.Length(max=40))
    dest_code = fields.String(validate=validate.Length(max=40))
    sequence_id = fields.Raw(metadata={"description": "a number or a string"})
    sign_name = fields.String(validate=validate.Length(max=100))


class AliyunAckSchema(Schema):
    code = fields.Integer(metadata={"description": "0: received"})
    msg = fields.String()


class ReplyHookSchema(Schema):
    aliyun_url = fields.String(
        metadata={
            "description": "The tenant's callback URL for Alibaba Cloud SMS uplink messages "
            "(SmsUp, HTTP batch push); it carries a secret: keep it as one"
        }
    )
