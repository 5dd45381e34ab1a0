"""Web Push tables: a tenant's VAPID key pair and the browsers its people subscribed.

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
