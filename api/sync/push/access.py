"""Which work orders a writer may touch (PROTOCOL.md § 7.4 step 3 and § 5.3).

The office reaches every order of its tenant. A technician reaches the orders
assigned to them, the unassigned orders they created offline, and an order that
has left their scope while their device had not yet been told (the grace rule):
the device's mutation is accepted iff its HLC *as sent* is lower than the
``server_time`` of the pull that first delivered the ``left_scope`` tombstone.
Anything else, another tenant's IDs included, is ``sync.not_in_scope``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.sync.models import SyncDeparture, SyncScopeChange
from api.sync.push.writer import Writer
from api.workorders.models import WorkOrder
from sync_protocol.entities import Table
from sync_protocol.errors import ProtocolError
from sync_protocol.hlc import HLC
from sync_protocol.messages import Mutation
from sync_protocol.scopes import technician_scope, within_grace


def order_for_update(
    session: Session, writer: Writer, work_order_id: uuid.UUID, sent: HLC, field: str
) -> WorkOrder:
    """The order, locked, if ``writer`` may act on it; else ``sync.not_in_scope``."""
    order = writer.locked.get(work_order_id)
    if order is None:
        order = session.scalars(
            select(WorkOrder)
            .where(WorkOrder.tenant_id == writer.tenant_id, WorkOrder.id == work_order_id)
            .with_for_update()
        ).one_or_none()
        if order is not None:
            writer.locked[work_order_id] = order
    if order is not None and _reachable(session, writer, order, sent):
        return order
    raise ProtocolError("sync.not_in_scope", "No such work order in your scope", field)


def lock_orders(session: Session, writer: Writer, mutations: Iterable[Mutation]) -> None:
    """Lock every existing order a batch names, in ID order, with one statement.

    One round trip instead of one per order, and a fixed lock order, so two
    pushes touching the same orders queue up instead of deadlocking.
    """
    ids: set[uuid.UUID] = set()
    for mutation in mutations:
        raw = mutation.args.get("work_order_id") or mutation.args.get("id")
        if isinstance(raw, str):
            try:
                ids.add(uuid.UUID(raw))
            except ValueError:
                continue  # the mutation's own parse will refuse it
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        query = (
            select(WorkOrder)
            .where(
                WorkOrder.tenant_id == writer.tenant_id,
                WorkOrder.id.in_(ordered[start : start + 500]),
            )
            .order_by(WorkOrder.id)
            .with_for_update()
        )
        writer.locked |= {order.id: order for order in session.scalars(query)}


def _reachable(session: Session, writer: Writer, order: WorkOrder, sent: HLC) -> bool:
    technician_id = writer.technician_id
    if technician_id is None:
        return writer.is_office
    if order.assignee_id == technician_id:
        return True
    if order.assignee_id is None and order.creator_technician_id == technician_id:
        return True
    if not _was_in_scope(session, writer, order.id):
        return False
    delivered = session.scalar(
        select(SyncDeparture.delivered_hlc).where(
            SyncDeparture.tenant_id == writer.tenant_id,
            SyncDeparture.device_id == writer.device_id,
            SyncDeparture.work_order_id == order.id,
        )
    )
    return within_grace(sent, HLC.parse(delivered) if delivered else None)


def _was_in_scope(session: Session, writer: Writer, order_id: uuid.UUID) -> bool:
    assert writer.technician_id is not None
    query = (
        select(SyncScopeChange.change_seq)
        .where(
            SyncScopeChange.tenant_id == writer.tenant_id,
            SyncScopeChange.scope == str(technician_scope(writer.technician_id)),
            SyncScopeChange.row_id == order_id,
            SyncScopeChange.table_name == Table.WORK_ORDERS.value,
        )
        .limit(1)
    )
    return session.scalar(query) is not None
