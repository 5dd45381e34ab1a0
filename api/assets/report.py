"""What a scan shows: the asset, its site, its warranty, its past and its open orders.

``select()`` only. History is what a technician at the asset needs before they
start: the latest finished orders (completed, closed or cancelled) on it, and
every order on it still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.assets.models import Asset
from api.auth.actor import Actor
from api.sites.models import Site
from api.tenants.models import Tenant
from api.workorders.models import WorkOrder, WorkOrderAsset
from api.workorders.states import Status

HISTORY_LIMIT = 20
MAX_ORDERS = 500
FINISHED = (Status.COMPLETED, Status.CLOSED, Status.CANCELLED)


@dataclass(frozen=True)
class Warranty:
    status: str  # "active" (ends today or later), "expired", or "unknown" (no end date)
    ends_on: date | None


@dataclass(frozen=True)
class ScanReport:
    asset: Asset
    created: bool
    site: Site
    warranty: Warranty
    open_work_orders: list[WorkOrder]
    service_history: list[WorkOrder]


def scan_report(
    session: Session,
    actor: Actor,
    asset: Asset,
    *,
    created: bool,
    place: tuple[Site, str | None] | None = None,
) -> ScanReport:
    """The scanner's answer; ``place``: the asset's site and the tenant's time zone when
    the caller read them with the asset (else read here)."""
    if place is None:
        place = (
            session.execute(
                select(Site, Tenant.timezone)
                .join(Tenant, Tenant.id == Site.tenant_id)
                .where(Site.id == asset.site_id)
            )
            .tuples()
            .one()
        )
    site, zone = place
    # One query for both lists, newest first: an asset's orders are few, and past
    # MAX_ORDERS only the oldest history is left out.
    orders = session.scalars(
        select(WorkOrder)
        .join(WorkOrderAsset, WorkOrderAsset.work_order_id == WorkOrder.id)
        .where(WorkOrderAsset.asset_id == asset.id, WorkOrder.tenant_id == actor.tenant_id)
        .order_by(WorkOrder.id.desc())
        .limit(MAX_ORDERS)
    ).all()
    open_orders = [o for o in reversed(orders) if o.status not in FINISHED]
    history = [o for o in orders if o.status in FINISHED][:HISTORY_LIMIT]
    today = datetime.now(ZoneInfo(zone or "Asia/Shanghai")).date()
    return ScanReport(asset, created, site, warranty_of(asset, today), open_orders, history)


def warranty_of(asset: Asset, today: date) -> Warranty:
    ends = asset.warranty_ends_on
    if ends is None:
        return Warranty("unknown", None)
    return Warranty("active" if ends >= today else "expired", ends)
