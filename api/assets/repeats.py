"""Repeat-issue detection: one asset failing the same way again and again.

When an order is created with a category and assets, each asset's orders of that
category created within the tenant's window (``repeat_window_days``, default 3)
are counted, this one included. At the tenant's threshold (``repeat_threshold``,
default 3) the office is told (a notification to every active admin and
dispatcher, and an audit entry on the asset) and, if the tenant has turned on
``repeat_opens_preventive``, a preventive maintenance order is opened on the
asset, unless one is still open. Preventive orders are not counted themselves,
so one cannot set off another.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.assets.models import Asset
from api.audit import services as audit
from api.auth.actor import Actor
from api.auth.permissions import Role
from api.db import new_id, utcnow
from api.notifications.models import Notification
from api.tenants.models import Tenant
from api.users.models import User
from api.workorders.models import WorkOrder, WorkOrderAsset
from api.workorders.states import Priority, Status

PREVENTIVE_SOURCE = "preventive"
FINISHED = (Status.COMPLETED, Status.CLOSED, Status.CANCELLED)


def check_repeats(
    session: Session, actor: Actor, order: WorkOrder, asset_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """Flag each asset of ``order`` that reached the threshold; the preventive orders opened."""
    if order.category_id is None or not asset_ids or order.source == PREVENTIVE_SOURCE:
        return []
    tenant = session.get_one(Tenant, order.tenant_id)
    since = utcnow() - timedelta(days=tenant.repeat_window_days)
    opened: list[uuid.UUID] = []
    for asset_id in asset_ids:
        orders = session.scalars(
            select(WorkOrder.id)
            .join(WorkOrderAsset, WorkOrderAsset.work_order_id == WorkOrder.id)
            .where(
                WorkOrderAsset.asset_id == asset_id,
                WorkOrder.tenant_id == order.tenant_id,
                WorkOrder.category_id == order.category_id,
                WorkOrder.source != PREVENTIVE_SOURCE,
                WorkOrder.created_at >= since,
            )
            .order_by(WorkOrder.id)
        ).all()
        if len(orders) < tenant.repeat_threshold:
            continue
        preventive = None
        if tenant.repeat_opens_preventive and not _open_preventive(session, asset_id):
            preventive = _open_preventive_order(session, actor, order, asset_id)
            opened.append(preventive)
        _flag(session, actor, tenant, order, asset_id, list(orders), preventive)
    return opened


def _open_preventive(session: Session, asset_id: uuid.UUID) -> bool:
    return (
        session.scalar(
            select(func.count())
            .select_from(WorkOrder)
            .join(WorkOrderAsset, WorkOrderAsset.work_order_id == WorkOrder.id)
            .where(
                WorkOrderAsset.asset_id == asset_id,
                WorkOrder.source == PREVENTIVE_SOURCE,
                WorkOrder.status.not_in(FINISHED),
            )
        )
        or 0
    ) > 0


def _open_preventive_order(
    session: Session, actor: Actor, trigger: WorkOrder, asset_id: uuid.UUID
) -> uuid.UUID:
    # Imported here: the work order service calls this module while creating an order.
    from api.tenants.services import next_number
    from api.workorders.services import link_assets
    from api.workorders.transitions import append_history

    asset = session.get_one(Asset, asset_id)
    order = WorkOrder(
        tenant_id=trigger.tenant_id,
        number=f"WO-{next_number(session, trigger.tenant_id, 'work_order'):06d}",
        title=f"预防性维护：{asset.name}"[:200],
        description=(
            f"{trigger.number} 等工单显示该设备在短时间内反复出现同类故障，请安排全面检修。\n"
            f"Repeated issues of one category on this asset (see {trigger.number}): "
            "plan a preventive maintenance visit."
        ),
        customer_id=asset.customer_id,
        site_id=asset.site_id,
        category_id=trigger.category_id,
        priority=Priority.HIGH,
        status=Status.NEW,
        source=PREVENTIVE_SOURCE,
    )
    session.add(order)
    session.flush()  # the id, for the link and the history
    link_assets(session, order, [asset_id])
    append_history(session, actor, order, "create", None, reason="repeat issue")
    audit.record(
        session,
        actor,
        "create",
        "work_order",
        order.id,
        {"source": {"after": PREVENTIVE_SOURCE}, "trigger": {"after": str(trigger.id)}},
    )
    return order.id


def _flag(
    session: Session,
    actor: Actor,
    tenant: Tenant,
    trigger: WorkOrder,
    asset_id: uuid.UUID,
    orders: list[uuid.UUID],
    preventive: uuid.UUID | None,
) -> None:
    data = {
        "asset_id": str(asset_id),
        "category_id": str(trigger.category_id),
        "work_order_ids": [str(o) for o in orders],
        "window_days": tenant.repeat_window_days,
        "preventive_work_order_id": str(preventive) if preventive else None,
    }
    audit.record(session, actor, "repeat_issue", "asset", asset_id, {"flag": {"after": data}})
    event = new_id()
    office = session.execute(
        select(User.id, User.locale).where(
            User.tenant_id == tenant.id,
            User.role.in_([Role.ADMIN, Role.DISPATCHER]),
            User.active.is_(True),
        )
    ).all()
    asset_name = session.scalar(select(Asset.name).where(Asset.id == asset_id)) or ""
    zh = f"设备重复故障：{asset_name}（{tenant.repeat_window_days} 天内 {len(orders)} 单）"
    en = f"Repeat issue on {asset_name}: {len(orders)} orders in {tenant.repeat_window_days} days"
    for user_id, locale in office:
        session.add(
            Notification(
                tenant_id=tenant.id,
                user_id=user_id,
                kind="asset.repeat_issue",
                locale=locale,
                title=zh if locale.startswith("zh") else en,
                title_en=en,
                body=None,
                data=data,
                source_message_id=event,
            )
        )
