"""Web Push schemas: a browser's ``PushSubscription.toJSON()`` minus ``expirationTime``."""

from __future__ import annotations

from marshmallow import fields

from api.http.schemas import Schema, UTCDateTime, text


class PushKeysSchema(Schema):
    p256dh = text(
        100,
        required=True,
        metadata={"description": "The browser's P-256 public key, base64url (65 bytes)"},
    )
    auth = text(
        40,
        required=True,
        metadata={"description": "The browser's auth secret, base64url (16 bytes)"},
    )


class SubscriptionCreateSchema(Schema):
    endpoint = text(
        2048,
        required=True,
        metadata={"description": "The push service URL the browser was given (https)"},
    )
    keys = fields.Nested(PushKeysSchema, required=True)


class SubscriptionSchema(Schema):
    id = fields.UUID()
    endpoint = fields.String()
    created_at = UTCDateTime()


class VapidKeySchema(Schema):
    public_key = fields.String(
        metadata={
            "description": "The tenant's VAPID public key (base64url uncompressed P-256 point), "
            "the `applicationServerKey` of `pushManager.subscribe`"
        }
    )
