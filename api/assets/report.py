"""What a scan shows: the asset, its site, its warranty, its past and its open orders.

``select()`` only. History is what a technician at the asset needs before they
start: the latest finished orders (completed, closed or cancelled) on it, and
every order on it still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.assets.models import Asset
from api.assets.queries import tenant_today
from api.auth.actor import Actor
from api.sites.models import Site
from api.workorders.models import WorkOrder, WorkOrderAsset
from api.workorders.states import Status

HISTORY_LIMIT = 20
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


def scan_report(session: Session, actor: Actor, asset: Asset, *, created: bool) -> ScanReport:
    site = session.get_one(Site, asset.site_id)
    orders = (
        select(WorkOrder)
        .join(WorkOrderAsset, WorkOrderAsset.work_order_id == WorkOrder.id)
        .where(WorkOrderAsset.asset_id == asset.id, WorkOrder.tenant_id == actor.tenant_id)
    )
    open_orders = session.scalars(
        orders.where(WorkOrder.status.not_in(FINISHED)).order_by(WorkOrder.id)
    ).all()
    history = session.scalars(
        orders.where(WorkOrder.status.in_(FINISHED))
        .order_by(WorkOrder.id.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    return ScanReport(
        asset,
        created,
        site,
        warranty_of(asset, tenant_today(session, actor.tenant_id)),
        list(open_orders),
        list(history),
    )


def warranty_of(asset: Asset, today: date) -> Warranty:
    ends = asset.warranty_ends_on
    if ends is None:
        return Warranty("unknown", None)
    return Warranty("active" if ends >= today else "expired", ends)
