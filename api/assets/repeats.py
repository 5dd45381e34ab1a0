"""Repeat-issue detection: one asset failing the same way again and again.

When an order is created with assets (through the API, the public repair page
or a device's offline create), each asset's orders with *the same problem*
created within the tenant's window (``repeat_window_days``, default 3) are
counted, this one included. The same problem: the same category when both
orders have one; otherwise words alike (:func:`api.duplicates.similarity.similarity`
at least :data:`SAME_PROBLEM`), since a QR repair request or a quick offline
create often has no category. At the tenant's threshold (``repeat_threshold``,
default 3) an ``asset.repeat_issue`` outbox message is written with the order.

The worker (:func:`handle_repeat_issue`) then tells the office (a notification
to every active admin and dispatcher, and an audit entry on the asset) and, if
the tenant has turned on ``repeat_opens_preventive``, opens a preventive
maintenance order on the asset, of the tenant's ``repeat_preventive_category_id``
(or the repeats' category), linked ``repeat_of`` to each repeat. At most one
per window: not while one is open nor when one was opened within the window,
whatever became of it; the asset's row is locked while deciding, so two workers
handling two repeats of one asset cannot both open one. Preventive orders are
not counted themselves, so one cannot set off another.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.assets.models import Asset
from api.audit import services as audit
from api.auth.actor import Actor, system_actor
from api.auth.permissions import Role
from api.categories.models import MAX_DEPTH, Category
from api.db import utcnow
from api.duplicates.models import REPEAT_OF, WorkOrderLink
from api.duplicates.similarity import similarity
from api.notifications import delivery
from api.notifications.models import Notification
from api.outbox.models import OutboxMessage
from api.outbox.services import publish
from api.tenants.models import Tenant
from api.users.models import User
from api.workorders.models import WorkOrder, WorkOrderAsset
from api.workorders.states import Priority, Status

TOPIC = "asset.repeat_issue"
PREVENTIVE_SOURCE = "preventive"
FINISHED = (Status.COMPLETED, Status.CLOSED, Status.CANCELLED)
SAME_PROBLEM = 0.5  # text similarity that makes two orders without a shared category alike


def check_repeats(
    session: Session, actor: Actor, order: WorkOrder, asset_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """The assets of the (flushed) ``order`` that reached the threshold; each gets a message."""
    if not asset_ids or order.source == PREVENTIVE_SOURCE:
        return []
    tenant = session.get_one(Tenant, order.tenant_id)
    since = utcnow() - timedelta(days=tenant.repeat_window_days)
    flagged: list[uuid.UUID] = []
    for asset_id in asset_ids:
        orders = same_problem(session, order, asset_id, since)
        if len(orders) < tenant.repeat_threshold:
            continue
        publish(
            session,
            order.tenant_id,
            TOPIC,
            {
                "tenant_id": order.tenant_id,
                "asset_id": asset_id,
                "trigger_id": order.id,
                "work_order_ids": orders,
                "actor_id": actor.principal_id,
            },
        )
        flagged.append(asset_id)
    return flagged


def same_problem(
    session: Session, order: WorkOrder, asset_id: uuid.UUID, since: datetime
) -> list[uuid.UUID]:
    """The asset's orders since ``since`` with ``order``'s problem (itself included)."""
    rows = session.execute(
        select(WorkOrder.id, WorkOrder.category_id, WorkOrder.title, WorkOrder.description)
        .join(WorkOrderAsset, WorkOrderAsset.work_order_id == WorkOrder.id)
        .where(
            WorkOrderAsset.asset_id == asset_id,
            WorkOrder.tenant_id == order.tenant_id,
            WorkOrder.source != PREVENTIVE_SOURCE,
            WorkOrder.created_at >= since,
        )
        .order_by(WorkOrder.id)
    ).all()
    text = _text(order.title, order.description)
    return [
        row.id
        for row in rows
        if row.id == order.id
        or (
            row.category_id == order.category_id
            if row.category_id is not None and order.category_id is not None
            else similarity(text, _text(row.title, row.description)) >= SAME_PROBLEM
        )
    ]


def handle_repeat_issue(session: Session, message: OutboxMessage) -> None:
    """Outbox handler: tell the office, and open the preventive order if due (once)."""
    payload = message.payload
    tenant_id, asset_id = uuid.UUID(payload["tenant_id"]), uuid.UUID(payload["asset_id"])
    if session.scalar(select(Notification.id).where(Notification.source_message_id == message.id)):
        return  # this message was handled already
    tenant = session.get(Tenant, tenant_id)
    # Locked: two repeats of one asset handled at once decide one after the other.
    asset = session.scalars(
        select(Asset).where(Asset.id == asset_id, Asset.tenant_id == tenant_id).with_for_update()
    ).one_or_none()
    trigger = session.get(WorkOrder, uuid.UUID(payload["trigger_id"]))
    if tenant is None or asset is None or trigger is None:
        return  # gone since
    orders = [uuid.UUID(o) for o in payload["work_order_ids"]]
    actor = system_actor(tenant_id)
    preventive = None
    if tenant.repeat_opens_preventive and not _preventive_in_window(session, tenant, asset_id):
        preventive = _open_preventive_order(session, actor, tenant, trigger, asset, orders)
    _flag(session, actor, tenant, trigger, asset, orders, preventive, message.id)


def _preventive_in_window(session: Session, tenant: Tenant, asset_id: uuid.UUID) -> bool:
    since = utcnow() - timedelta(days=tenant.repeat_window_days)
    found = session.scalar(
        select(WorkOrder.id)
        .join(WorkOrderAsset, WorkOrderAsset.work_order_id == WorkOrder.id)
        .where(
            WorkOrderAsset.asset_id == asset_id,
            WorkOrder.tenant_id == tenant.id,
            WorkOrder.source == PREVENTIVE_SOURCE,
            or_(WorkOrder.status.not_in(FINISHED), WorkOrder.created_at >= since),
        )
        .limit(1)
    )
    return found is not None


def preventive_category(
    session: Session, tenant: Tenant, fallback: uuid.UUID | None
) -> uuid.UUID | None:
    """The tenant's preventive category if it is still a usable leaf, else ``fallback``."""
    chosen = tenant.repeat_preventive_category_id
    if chosen is None:
        return fallback
    usable = session.scalar(
        select(Category.id).where(
            Category.id == chosen,
            Category.tenant_id == tenant.id,
            Category.level == MAX_DEPTH,
            Category.active.is_(True),
        )
    )
    return chosen if usable is not None else fallback


def _open_preventive_order(
    session: Session,
    actor: Actor,
    tenant: Tenant,
    trigger: WorkOrder,
    asset: Asset,
    repeats: list[uuid.UUID],
) -> uuid.UUID:
    # Imported here: the work order service calls this module while creating an order.
    from api.dispatching.requests import request_dispatch
    from api.tenants.services import next_number
    from api.workorders.services import link_assets
    from api.workorders.transitions import append_history

    order = WorkOrder(
        tenant_id=trigger.tenant_id,
        number=f"WO-{next_number(session, trigger.tenant_id, 'work_order'):06d}",
        title=f"预防性维护：{asset.name}"[:200],
        description=(
            f"{trigger.number} 等工单显示该设备在短时间内反复出现同类故障，请安排全面检修。\n"
            f"Repeated issues of one kind on this asset (see {trigger.number}): "
            "plan a preventive maintenance visit."
        ),
        customer_id=asset.customer_id,
        site_id=asset.site_id,
        category_id=preventive_category(session, tenant, trigger.category_id),
        priority=Priority.HIGH,
        status=Status.NEW,
        source=PREVENTIVE_SOURCE,
    )
    session.add(order)
    session.flush()  # the id, for the links and the history
    link_assets(session, order, [asset.id])
    session.add_all(
        WorkOrderLink(
            tenant_id=order.tenant_id, work_order_id=order.id, linked_id=repeat, kind=REPEAT_OF
        )
        for repeat in repeats
    )
    append_history(session, actor, order, "create", None, reason="repeat issue")
    request_dispatch(session, order)  # the tenant's dispatch policy, like any new order
    audit.record(
        session,
        actor,
        "create",
        "work_order",
        order.id,
        {
            "source": {"after": PREVENTIVE_SOURCE},
            "trigger": {"after": str(trigger.id)},
            "repeat_of": {"after": [str(r) for r in repeats]},
        },
    )
    return order.id


def _flag(
    session: Session,
    actor: Actor,
    tenant: Tenant,
    trigger: WorkOrder,
    asset: Asset,
    orders: list[uuid.UUID],
    preventive: uuid.UUID | None,
    message_id: uuid.UUID,
) -> None:
    data = {
        "asset_id": str(asset.id),
        "category_id": str(trigger.category_id) if trigger.category_id else None,
        "work_order_ids": [str(o) for o in orders],
        "window_days": tenant.repeat_window_days,
        "preventive_work_order_id": str(preventive) if preventive else None,
    }
    audit.record(session, actor, "repeat_issue", "asset", asset.id, {"flag": {"after": data}})
    office = session.execute(
        select(User.id, User.locale).where(
            User.tenant_id == tenant.id,
            User.role.in_([Role.ADMIN, Role.DISPATCHER]),
            User.active.is_(True),
        )
    ).all()
    zh = f"设备重复故障：{asset.name}（{tenant.repeat_window_days} 天内 {len(orders)} 单）"
    en = f"Repeat issue on {asset.name}: {len(orders)} orders in {tenant.repeat_window_days} days"
    for user_id, locale in office:
        delivery.add(
            session,
            Notification(
                tenant_id=tenant.id,
                user_id=user_id,
                kind="asset.repeat_issue",
                locale=locale,
                title=zh if locale.startswith("zh") else en,
                title_en=en,
                body=None,
                data=data,
                source_message_id=message_id,
            ),
        )


def _text(title: str, description: str | None) -> str:
    return f"{title}\n{description or ''}"
