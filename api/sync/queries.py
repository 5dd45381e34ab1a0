"""Scope membership and change-log reads: ``select()`` only, no writes.

A technician scope (PROTOCOL.md § 5.1) holds the technician's assigned work
orders that are active or were closed or cancelled in the last 7 days, and
what those need: each order's customer, site, the customer's contacts, the
order's assets (``work_order_assets``), its status changes and its notes. The
taxonomy scope holds the tenant's categories.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, NamedTuple

from sqlalchemy import Uuid, and_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from api.categories.models import Category
from api.customers.models import Contact
from api.db import utcnow
from api.db.driver_reads import DriverReads
from api.evidence.models import PartUsed, Photo, Reading, TimeEntry
from api.sync.models import (
    SyncConflict,
    SyncCounter,
    SyncQuarantine,
    SyncScopeChange,
    SyncScopeMember,
)
from api.workorders.models import Note, StatusChange, WorkOrder, WorkOrderAsset
from api.workorders.states import Status
from sync_protocol.entities import Table
from sync_protocol.scopes import Scope, ScopeKind

Key = tuple[Table, uuid.UUID]

CLOSED_RETENTION = timedelta(days=7)
HISTORY_DEPTH = 20  # past orders per asset in a technician's scope (PROTOCOL.md § 5.1)
_EVIDENCE: tuple[tuple[Table, type[Note | PartUsed | Reading | TimeEntry | Photo]], ...] = (
    (Table.NOTES, Note),
    (Table.PARTS_USED, PartUsed),
    (Table.READINGS, Reading),
    (Table.TIME_ENTRIES, TimeEntry),
    (Table.PHOTOS, Photo),
)
_FINAL = (Status.CLOSED, Status.CANCELLED)


def technician_members(
    session: Session, tenant_id: uuid.UUID, technician_id: uuid.UUID
) -> set[Key]:
    """The rows ``technician:<technician_id>`` should hold now."""
    since = utcnow() - CLOSED_RETENTION
    orders = session.execute(
        select(WorkOrder.id, WorkOrder.customer_id, WorkOrder.site_id).where(
            WorkOrder.tenant_id == tenant_id,
            or_(
                WorkOrder.assignee_id == technician_id,
                and_(
                    WorkOrder.assignee_id.is_(None),
                    WorkOrder.creator_technician_id == technician_id,
                ),
            ),
            or_(
                WorkOrder.status.not_in(_FINAL),
                WorkOrder.closed_at >= since,
                WorkOrder.cancelled_at >= since,
            ),
        )
    ).all()
    keys: set[Key] = set()
    for order_id, customer_id, site_id in orders:
        keys |= {
            (Table.WORK_ORDERS, order_id),
            (Table.CUSTOMERS, customer_id),
            (Table.SITES, site_id),
        }
    keys |= _own_records(session, tenant_id, technician_id)
    if not orders:
        return keys
    order_ids = [o[0] for o in orders]
    customer_ids = sorted({o[1] for o in orders})
    children = (
        (
            Table.ASSETS,
            select(WorkOrderAsset.asset_id).where(
                WorkOrderAsset.tenant_id == tenant_id, WorkOrderAsset.work_order_id.in_(order_ids)
            ),
        ),
        (
            Table.STATUS_CHANGES,
            select(StatusChange.id).where(
                StatusChange.tenant_id == tenant_id, StatusChange.work_order_id.in_(order_ids)
            ),
        ),
        (
            Table.CONTACTS,
            select(Contact.id).where(
                Contact.tenant_id == tenant_id, Contact.customer_id.in_(customer_ids)
            ),
        ),
        *(
            (
                table,
                select(model.id).where(
                    model.tenant_id == tenant_id, model.work_order_id.in_(order_ids)
                ),
            )
            for table, model in _EVIDENCE
        ),
    )
    for table, query in children:
        keys |= {(table, row_id) for row_id in session.scalars(query)}
    assets = sorted(row_id for table, row_id in keys if table is Table.ASSETS)
    keys |= {
        (Table.ASSET_HISTORY, order_id) for order_id in asset_history(session, tenant_id, assets)
    }
    return keys


def asset_history(
    session: Session, tenant_id: uuid.UUID, asset_ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    """The last :data:`HISTORY_DEPTH` orders that touched each of these assets."""
    found: set[uuid.UUID] = set()
    for start in range(0, len(asset_ids), 500):
        rank = (
            func.row_number()
            .over(
                partition_by=WorkOrderAsset.asset_id,
                order_by=(WorkOrder.created_at.desc(), WorkOrder.id.desc()),
            )
            .label("rank")
        )
        ranked = (
            select(WorkOrderAsset.work_order_id, rank)
            .join(WorkOrder, WorkOrder.id == WorkOrderAsset.work_order_id)
            .where(
                WorkOrderAsset.tenant_id == tenant_id,
                WorkOrderAsset.asset_id.in_(asset_ids[start : start + 500]),
            )
            .subquery()
        )
        query = select(ranked.c.work_order_id).where(ranked.c.rank <= HISTORY_DEPTH)
        found |= set(session.scalars(query))
    return found


def _own_records(session: Session, tenant_id: uuid.UUID, technician_id: uuid.UUID) -> set[Key]:
    """The technician's devices' conflicts and quarantine entries (PROTOCOL.md § 5.1).

    Open and parked ones, and settled ones for :data:`CLOSED_RETENTION` after they
    were settled: the device then pulls the record with its ``resolved``/``discarded``
    state (and the resolution), not just a tombstone, before it ages out.
    """
    since = utcnow() - CLOSED_RETENTION
    conflicts = select(SyncConflict.id).where(
        SyncConflict.tenant_id == tenant_id,
        SyncConflict.technician_id == technician_id,
        or_(SyncConflict.state == "open", SyncConflict.resolved_at >= since),
    )
    parked = select(SyncQuarantine.id).where(
        SyncQuarantine.tenant_id == tenant_id,
        SyncQuarantine.technician_id == technician_id,
        or_(SyncQuarantine.state == "parked", SyncQuarantine.settled_at >= since),
    )
    return {(Table.CONFLICTS, i) for i in session.scalars(conflicts)} | {
        (Table.QUARANTINE, i) for i in session.scalars(parked)
    }


def technicians_holding_aged_orders(session: Session, tenant_id: uuid.UUID) -> set[uuid.UUID]:
    """Technicians whose scope still holds an order finished longer ago than the retention."""
    since = utcnow() - CLOSED_RETENTION
    query = (
        select(SyncScopeMember.scope)
        .distinct()
        .join(
            WorkOrder,
            and_(
                WorkOrder.tenant_id == SyncScopeMember.tenant_id,
                WorkOrder.id == SyncScopeMember.row_id,
            ),
        )
        .where(
            SyncScopeMember.tenant_id == tenant_id,
            SyncScopeMember.table_name == Table.WORK_ORDERS.value,
            WorkOrder.status.in_(_FINAL),
            or_(WorkOrder.closed_at < since, WorkOrder.cancelled_at < since),
        )
    )
    found: set[uuid.UUID] = set()
    for name in session.scalars(query):
        scope = Scope.parse(name)
        if scope.kind is ScopeKind.TECHNICIAN and scope.subject is not None:
            found.add(scope.subject)
    return found


def assignees(session: Session, tenant_id: uuid.UUID) -> set[uuid.UUID]:
    """Technicians with at least one assigned order."""
    query = (
        select(WorkOrder.assignee_id)
        .distinct()
        .where(WorkOrder.tenant_id == tenant_id, WorkOrder.assignee_id.is_not(None))
    )
    return {technician_id for technician_id in session.scalars(query) if technician_id}


def stored_members(
    session: Session, tenant_id: uuid.UUID, scope: str, only: set[uuid.UUID] | None = None
) -> set[Key]:
    """The rows the change log has delivered into ``scope`` so far (of ``only``, if given)."""
    query = select(SyncScopeMember.table_name, SyncScopeMember.row_id).where(
        SyncScopeMember.tenant_id == tenant_id, SyncScopeMember.scope == scope
    )
    if only is None:
        return {(Table(table), row_id) for table, row_id in session.execute(query)}
    found: set[Key] = set()
    ids = list(only)
    postgres = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        if postgres:
            rows: Any = _MEMBER_READS.fetch(
                session.connection(),
                "members among",
                _members_among,
                {"tenant": tenant_id, "scope": scope, "ids": chunk},
            )
        else:
            rows = session.execute(query.where(SyncScopeMember.row_id.in_(chunk)))
        found |= {(_TABLES[table], row_id) for table, row_id in rows}
    return found


def _members_among() -> Any:
    """Members of a scope among a list of IDs: one index probe per ID (PostgreSQL)."""
    wanted = (
        func.unnest(bindparam("ids", type_=ARRAY(Uuid())))
        .table_valued("id")
        .render_derived(name="wanted")
    )
    return (
        select(SyncScopeMember.table_name, SyncScopeMember.row_id)
        .join(wanted, SyncScopeMember.row_id == wanted.c.id)
        .where(
            SyncScopeMember.tenant_id == bindparam("tenant"),
            SyncScopeMember.scope == bindparam("scope"),
        )
    )


_MEMBER_READS = DriverReads()
_TABLES = {table.value: table for table in Table}


def taxonomy_members(session: Session, tenant_id: uuid.UUID) -> set[Key]:
    query = select(Category.id).where(Category.tenant_id == tenant_id)
    return {(Table.CATEGORIES, row_id) for row_id in session.scalars(query)}


def scopes_holding(session: Session, tenant_id: uuid.UUID, row_ids: set[uuid.UUID]) -> set[str]:
    """Technician scopes that hold any of these rows."""
    found: set[str] = set()
    ids = sorted(row_ids)
    for start in range(0, len(ids), 500):
        query = (
            select(SyncScopeMember.scope)
            .distinct()
            .where(
                SyncScopeMember.tenant_id == tenant_id,
                SyncScopeMember.row_id.in_(ids[start : start + 500]),
            )
        )
        found |= set(session.scalars(query))
    return found


def high_water(session: Session, tenant_id: uuid.UUID) -> int:
    """The tenant's last change number visible in this snapshot (0 before the first)."""
    value = session.scalar(select(SyncCounter.value).where(SyncCounter.tenant_id == tenant_id))
    return value or 0


class LoggedChange(NamedTuple):
    """One entry of the change log, as a pull reads it (plain rows: no ORM objects)."""

    change_seq: int
    scope: str
    table_name: str
    row_id: uuid.UUID
    op: str
    reason: str | None


def changes_after(
    session: Session, tenant_id: uuid.UUID, cursors: dict[str, int], limit: int
) -> list[LoggedChange]:
    """Changes of these scopes past each scope's cursor, in change order, at most ``limit``."""
    if not cursors:
        return []
    query = (
        select(
            SyncScopeChange.change_seq,
            SyncScopeChange.scope,
            SyncScopeChange.table_name,
            SyncScopeChange.row_id,
            SyncScopeChange.op,
            SyncScopeChange.reason,
        )
        .where(
            SyncScopeChange.tenant_id == tenant_id,
            or_(
                *(
                    and_(SyncScopeChange.scope == scope, SyncScopeChange.change_seq > after)
                    for scope, after in sorted(cursors.items())
                )
            ),
        )
        .order_by(SyncScopeChange.change_seq)
        .limit(limit)
    )
    return [LoggedChange(*row) for row in session.execute(query)]
