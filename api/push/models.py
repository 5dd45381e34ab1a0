"""Web Push tables: a tenant's VAPID key pair, the browsers its people subscribed, and
those customers subscribed from an order's tracking page.

The VAPID private key is stored wrapped (``signatures.keyring`` under a key derived
from the app secret, with its own label), like the tenant's signing keys. A
subscription is a browser's push endpoint and its encryption keys; it belongs to
one user, and one endpoint is one row per tenant (subscribing again updates it).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, TenantOwned, new_id, utcnow


class TenantVapidKey(Base, TenantOwned):
    __tablename__ = "tenant_vapid_keys"
    __table_args__ = (UniqueConstraint("tenant_id"),)  # one per tenant, made on first use

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # base64url (no padding) of the uncompressed P-256 point: the browser's applicationServerKey
    public_key: Mapped[str] = mapped_column(String(100))
    wrapped_private_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushSubscription(Base, TenantOwned):
    __tablename__ = "push_subscriptions"
    __table_args__ = (UniqueConstraint("tenant_id", "endpoint"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    endpoint: Mapped[str] = mapped_column(String(2048))
    p256dh: Mapped[str] = mapped_column(String(100))  # base64url, 65-byte P-256 point
    auth: Mapped[str] = mapped_column(String(40))  # base64url, 16-byte secret
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_delivered_at: Mapped[datetime | None]


class TrackingPushSubscription(Base, TenantOwned):
    """A browser a customer subscribed from an order's tracking page, with no account.

    It belongs to the order (and to the link it was made through): the customer hears
    of that order's steps and nothing else, and when the link stops working (revoked,
    rotated, expired) the next delivery drops the subscription instead of sending.
    One endpoint is one row per order (subscribing again updates it).
    """

    __tablename__ = "tracking_push_subscriptions"
    __table_args__ = (UniqueConstraint("tenant_id", "work_order_id", "endpoint"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    work_order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    link_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tracking_links.id", ondelete="CASCADE"), index=True
    )
    endpoint: Mapped[str] = mapped_column(String(2048))
    p256dh: Mapped[str] = mapped_column(String(100))
    auth: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))  # the page's, for the messages' text
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_delivered_at: Mapped[datetime | None]
