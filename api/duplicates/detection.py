"""Finding likely duplicates of a new work order, in the transaction that creates it.

Every way an order comes in (the API, the public repair request, a device's
offline create through sync) calls :func:`find_duplicates` after the order is
flushed. It reads the tenant's recent orders of the same customer at the same
site, active or finished within the window (a cancelled order is nobody's
primary), scores each pair with :func:`api.duplicates.rules.match`, and records
a suggestion per match. Nothing is merged: the office decides.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.duplicates.models import DuplicateSuggestion
from api.duplicates.rules import DuplicateSettings, OrderFacts, match, order_text
from api.tenants.models import Tenant
from api.workorders.models import WorkOrder, WorkOrderAsset
from api.workorders.states import Status

PREVENTIVE_SOURCE = "preventive"  # server-made orders (api.assets.repeats) are not reports
# The newest this many orders of one customer at one site are compared: a site with
# more than that open within a few days is a backlog, and the newest are the likely twins.
CANDIDATE_LIMIT = 200


def settings_of(tenant: Tenant) -> DuplicateSettings:
    return DuplicateSettings(
        window=timedelta(hours=tenant.duplicate_window_hours),
        min_score=tenant.duplicate_min_score,
    )


def facts_of(order: WorkOrder, asset_ids: Sequence[uuid.UUID]) -> OrderFacts:
    return OrderFacts(
        id=order.id,
        tenant_id=order.tenant_id,
        customer_id=order.customer_id,
        site_id=order.site_id,
        created_at=order.created_at,
        text=order_text(order.title, order.description),
        asset_ids=frozenset(asset_ids),
        category_id=order.category_id,
    )


def find_duplicates(
    session: Session, order: WorkOrder, asset_ids: Sequence[uuid.UUID]
) -> list[DuplicateSuggestion]:
    """Record a suggestion for each likely duplicate of the (flushed) ``order``."""
    if order.source == PREVENTIVE_SOURCE:
        return []
    tenant = session.get_one(Tenant, order.tenant_id)
    settings = settings_of(tenant)
    new = facts_of(order, asset_ids)
    candidates = list(
        session.scalars(
            select(WorkOrder)
            .where(
                WorkOrder.tenant_id == order.tenant_id,
                WorkOrder.customer_id == order.customer_id,
                WorkOrder.site_id == order.site_id,
                WorkOrder.id != order.id,
                WorkOrder.created_at >= order.created_at - settings.window,
                WorkOrder.status != Status.CANCELLED,
                WorkOrder.source != PREVENTIVE_SOURCE,
            )
            .order_by(WorkOrder.created_at.desc())
            .limit(CANDIDATE_LIMIT)
        )
    )
    assets = _assets_of(session, [c.id for c in candidates])
    found = []
    for candidate in candidates:
        matched = match(new, facts_of(candidate, assets[candidate.id]), settings)
        if matched is not None:
            found.append(
                DuplicateSuggestion(
                    tenant_id=order.tenant_id,
                    work_order_id=order.id,
                    candidate_id=candidate.id,
                    score=matched.score,
                    reasons=list(matched.reasons),
                )
            )
    session.add_all(found)
    return found


def _assets_of(
    session: Session, order_ids: list[uuid.UUID]
) -> defaultdict[uuid.UUID, list[uuid.UUID]]:
    assets: defaultdict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if order_ids:
        rows = session.execute(
            select(WorkOrderAsset.work_order_id, WorkOrderAsset.asset_id).where(
                WorkOrderAsset.work_order_id.in_(order_ids)
            )
        )
        for order_id, asset_id in rows:
            assets[order_id].append(asset_id)
    return assets
