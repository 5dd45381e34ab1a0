"""Opening a work order from a label's token, for someone who has no account.

The token is the only credential: it names one asset, and through it the site
and customer the order is for. Nothing a caller sends picks the tenant, the
customer or the site, and nothing answered reveals an internal id. Abuse is held
back in layers: a rate limit per token and per client address (counted before
the token is even looked up, so guessing tokens is limited too), a honeypot
field that only robots fill (they are told "received" and nothing is kept), and
size limits on every field (the schemas) and on photos.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.assets.models import LABEL_TOKEN, Asset
from api.auth.actor import system_actor
from api.customers.models import Customer
from api.db import UnitOfWork
from api.http.ratelimit import RateLimiter
from api.repairs.errors import RepairLinkNotFound
from api.repairs.photos import attach_photos, store_photos
from api.sites.models import Site
from api.tracking import links as tracking_links
from api.tracking.models import new_tracking_token
from api.workorders import services as order_services
from media.blobs import BlobStore

SOURCE = "repair_request"


@dataclass(frozen=True)
class PublicAsset:
    """What the repair page may show about the labelled asset: names, no ids."""

    name: str
    name_en: str | None
    site_name: str
    site_name_en: str | None
    customer_name: str
    customer_name_en: str | None


@dataclass(frozen=True)
class Received:
    reference: str  # the order's number, for the customer to quote on the phone
    tracking_url: str  # the order's public tracking link (api.tracking)


def describe_asset(
    session: Session, limiter: RateLimiter, token: str, client_address: str
) -> PublicAsset:
    """The labelled asset's names, counted per token and per address before the lookup
    (with the public reads' budget, not the requests': a customer may reload the form)."""
    _check_shape(token)
    limiter.hit(f"repair-view-token:{token}", f"repair-view-ip:{client_address}")
    asset = _asset_by_token(session, token)
    site = session.get_one(Site, asset.site_id)
    customer = session.get_one(Customer, asset.customer_id)
    return PublicAsset(
        asset.name, asset.name_en, site.name, site.name_en, customer.name, customer.name_en
    )


def open_repair_request(
    uow: UnitOfWork,
    store: BlobStore,
    limiter: RateLimiter,
    token: str,
    client_address: str,
    data: Mapping[str, Any],
    photos: Sequence[bytes] = (),
    public_url: str = "",
) -> Received:
    """A new work order at the labelled asset, or 404 ``repair.link_not_found``."""
    _check_shape(token)
    limiter.hit(f"repair-token:{token}", f"repair-ip:{client_address}")
    with uow:
        asset = _asset_by_token(uow.session, token)
        tenant_id, customer_id, site_id, asset_id, name = (
            asset.tenant_id,
            asset.customer_id,
            asset.site_id,
            asset.id,
            asset.name,
        )
    if data.get("website"):
        # The honeypot: a field hidden from people. Look the same as a success, keep nothing.
        fake = tracking_links.tracking_url(public_url, new_tracking_token())
        return Received(f"WO-{secrets.randbelow(10**6):06d}", fake)
    kept = store_photos(store, tenant_id, photos)  # a refused photo opens no order
    order = order_services.create_work_order(
        uow,
        system_actor(tenant_id),
        {
            "title": f"报修：{name}"[:200],
            "description": _description(data),
            "customer_id": customer_id,
            "site_id": site_id,
            "asset_ids": [asset_id],
            "source": SOURCE,
        },
    )
    if kept:
        attach_photos(uow, tenant_id, order.id, asset_id, kept)
    shared = tracking_links.issue_link(uow, tenant_id, order.id, public_url)
    return Received(order.number, shared.url)


def _check_shape(token: str) -> None:
    """404 for what cannot be a label token (before any counting: nothing is written)."""
    if not LABEL_TOKEN.fullmatch(token):
        raise RepairLinkNotFound()


def _asset_by_token(session: Session, token: str) -> Asset:
    asset = session.scalars(select(Asset).where(Asset.label_token == token)).one_or_none()
    if asset is None or not asset.active:
        raise RepairLinkNotFound()
    return asset


def _description(data: Mapping[str, Any]) -> str:
    contact = data["contact"]
    lines = [data["description"], "", f"报修人：{contact['name']}"]
    if contact.get("phone"):
        lines.append(f"电话：{contact['phone']}")
    if contact.get("email"):
        lines.append(f"邮箱：{contact['email']}")
    return "\n".join(lines)
