"""Notification schemas. ``title`` and ``body`` are in the recipient's language (``locale``,
their user locale when it was made, whatever language the reader's request asks for);
``title_en`` is always English."""

from __future__ import annotations

from marshmallow import fields

from api.http.pagination import PageArgs
from api.http.schemas import Schema, UTCDateTime
from api.notifications.models import EmailChoice


class NotificationSchema(Schema):
    id = fields.UUID()
    kind = fields.String()
    locale = fields.String(
        metadata={"description": "The recipient's language (zh-CN or en): title and body use it"}
    )
    title = fields.String(metadata={"description": "What happened, in the recipient's language"})
    title_en = fields.String(metadata={"description": "The title in English"})
    body = fields.String(
        allow_none=True,
        metadata={"description": "The reason given (decline, pause, cancel …), if any"},
    )
    data = fields.Dict()
    created_at = UTCDateTime()
    read_at = UTCDateTime(allow_none=True)


class NotificationListArgs(PageArgs):
    unread = fields.Boolean()


class MarkedSchema(Schema):
    marked = fields.Integer()


class PreferencesSchema(Schema):
    email = fields.Enum(
        EmailChoice,
        by_value=True,
        required=True,
        metadata={
            "description": "`when_no_push` (default: email only if no browser is subscribed "
            "to Web Push), `always` or `never`; email needs the server's SMTP settings"
        },
    )
