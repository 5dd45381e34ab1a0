"""Reading assets: tenant- and role-scoped, ``select()`` only.

The barcode lookup is the scanner's path ("scan a label → this asset"), so it
is an exact match on the per-tenant unique ``barcode_value``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from api import scoping
from api.assets.errors import AssetNotFound
from api.assets.models import Asset
from api.auth.actor import Actor
from api.http.pagination import Page, paginate
from api.sites.queries import contains_pattern
from api.tenants.models import Tenant


class Warranty(StrEnum):
    ACTIVE = "active"  # ends today or later
    EXPIRED = "expired"  # ended before today


def access_asset(session: Session, actor: Actor, asset_id: uuid.UUID) -> Asset:
    """The asset if this actor may see it; otherwise 404, whether or not it exists."""
    return _one_visible(session, actor, Asset.id == asset_id)


def asset_by_barcode(session: Session, actor: Actor, barcode_value: str) -> Asset:
    """The visible asset carrying exactly this barcode; otherwise 404."""
    return _one_visible(session, actor, Asset.barcode_value == barcode_value)


def list_assets(
    session: Session,
    actor: Actor,
    *,
    limit: int,
    cursor: str | None,
    site_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    barcode: str | None = None,
    serial_number: str | None = None,
    q: str | None = None,
    warranty: Warranty | None = None,
    active: bool | None = None,
    provisional: bool | None = None,
) -> Page:
    """Assets in creation order (UUIDv7), filtered by place, identifiers, text or warranty."""
    stmt: Select[tuple[Asset]] = select(Asset).where(
        Asset.tenant_id == actor.tenant_id, scoping.assets(actor)
    )
    exact = {
        Asset.site_id: site_id,
        Asset.customer_id: customer_id,
        Asset.barcode_value: barcode,
        Asset.serial_number: serial_number,
    }
    for column, value in exact.items():
        if value is not None:
            stmt = stmt.where(column == value)
    if active is not None:
        stmt = stmt.where(Asset.active.is_(active))
    if provisional is not None:
        stmt = stmt.where(Asset.provisional.is_(provisional))
    if warranty is not None:
        today = tenant_today(session, actor.tenant_id)
        stmt = stmt.where(
            Asset.warranty_ends_on >= today
            if warranty is Warranty.ACTIVE
            else Asset.warranty_ends_on < today
        )
    if q:
        pattern = contains_pattern(q)
        searched = (
            Asset.name,
            Asset.name_en,
            Asset.manufacturer,
            Asset.model,
            Asset.serial_number,
            Asset.barcode_value,
        )
        stmt = stmt.where(or_(*(column.ilike(pattern, escape="\\") for column in searched)))
    return paginate(session, stmt, Asset.id, limit=limit, cursor=cursor)


def _one_visible(session: Session, actor: Actor, condition: ColumnElement[bool]) -> Asset:
    asset = session.scalars(
        select(Asset).where(condition, Asset.tenant_id == actor.tenant_id, scoping.assets(actor))
    ).one_or_none()
    if asset is None:
        raise AssetNotFound()
    return asset


def tenant_today(session: Session, tenant_id: uuid.UUID) -> date:
    """Today's date where the tenant works: a warranty lapses at local midnight, not UTC's."""
    zone = session.scalar(select(Tenant.timezone).where(Tenant.id == tenant_id))
    return datetime.now(ZoneInfo(zone or "Asia/Shanghai")).date()
