"""Notification schemas. ``title`` follows Accept-Language; both texts are included."""

from __future__ import annotations

from marshmallow import fields

from api.http.pagination import PageArgs
from api.http.schemas import Schema, UTCDateTime


class NotificationSchema(Schema):
    id = fields.UUID()
    kind = fields.String()
    title = fields.String(metadata={"description": "Chinese text"})
    title_en = fields.String()
    data = fields.Dict()
    created_at = UTCDateTime()
    read_at = UTCDateTime(allow_none=True)


class NotificationListArgs(PageArgs):
    unread = fields.Boolean()


class MarkedSchema(Schema):
    marked = fields.Integer()
