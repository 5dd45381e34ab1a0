"""Scope membership and change-log reads: ``select()`` only, no writes.

A technician scope (PROTOCOL.md § 5.1) holds the technician's assigned work
orders that are active or were closed or cancelled in the last 7 days, and
what those need: each order's customer, site, the customer's contacts, the
order's assets (``work_order_assets``), its status changes and its notes. The
taxonomy scope holds the tenant's categories.
"""

from __future__ import annotations

import functools
import uuid
from datetime import timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    Uuid,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from api.categories.models import Category
from api.customers.models import Contact
from api.db import utcnow
from api.db.driver_reads import DriverReads
from api.db.lists import among
from api.dispatching.models import Offer
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
    """The technician's devices' conflicts and quarantine entries, and the jobs offered to
    them (PROTOCOL.md § 5.1, § 8.9).

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
    offers = select(Offer.id).where(
        Offer.tenant_id == tenant_id,
        Offer.technician_id == technician_id,
        or_(Offer.state == "pending", Offer.answered_at >= since),
    )
    return (
        {(Table.CONFLICTS, i) for i in session.scalars(conflicts)}
        | {(Table.QUARANTINE, i) for i in session.scalars(parked)}
        | {(Table.OFFERS, i) for i in session.scalars(offers)}
    )


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
    session: Session, tenant_id: uuid.UUID, scope: str, only: set[Key] | None = None
) -> set[Key]:
    """The rows the change log has delivered into ``scope`` so far (of ``only``, if given)."""
    query = select(SyncScopeMember.table_name, SyncScopeMember.row_id).where(
        SyncScopeMember.tenant_id == tenant_id, SyncScopeMember.scope == scope
    )
    postgres = session.get_bind().dialect.name == "postgresql"
    if only is None:
        # A whole scope (a checkpoint computed afresh, a membership diff): tens of
        # thousands of rows, read on the driver on PostgreSQL (no ORM row processing).
        rows: Any = (
            _MEMBER_READS.fetch(
                session.connection(),
                "members of",
                lambda: select(SyncScopeMember.table_name, SyncScopeMember.row_id).where(
                    SyncScopeMember.tenant_id == bindparam("tenant"),
                    SyncScopeMember.scope == bindparam("scope"),
                ),
                {"tenant": tenant_id, "scope": scope},
            )
            if postgres
            else session.execute(query)
        )
        return {(_TABLES[table], row_id) for table, row_id in rows}
    found: set[Key] = set()
    keys = list(only)
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        if postgres:
            rows = _MEMBER_READS.fetch(
                session.connection(),
                "members among",
                _members_among,
                {
                    "tenant": tenant_id,
                    "scope": scope,
                    "tables": [table.value for table, _ in chunk],
                    "ids": [row_id for _, row_id in chunk],
                },
            )
            found |= {(_TABLES[table], row_id) for table, row_id in rows}
        else:
            ids = {row_id for _, row_id in chunk}
            rows = session.execute(query.where(SyncScopeMember.row_id.in_(ids)))
            found |= {(_TABLES[table], row_id) for table, row_id in rows} & only
    return found


def _members_among() -> Any:
    """Which of these (table, ID) keys a scope holds (PostgreSQL): one index probe per key.

    The probe is a ``LATERAL ... LIMIT 1``, which PostgreSQL cannot turn into a join:
    as a join it hashed every member of the scope (tens of thousands of rows, ~12 ms)
    to look up a page's thousand keys (~1.5 ms probed).
    """
    wanted = (
        func.unnest(
            bindparam("tables", type_=ARRAY(String())), bindparam("ids", type_=ARRAY(Uuid()))
        )
        .table_valued("table_name", "id")
        .render_derived(name="wanted")
    )
    held = (
        select(literal_column("1"))
        .where(
            SyncScopeMember.tenant_id == bindparam("tenant"),
            SyncScopeMember.scope == bindparam("scope"),
            SyncScopeMember.table_name == wanted.c.table_name,
            SyncScopeMember.row_id == wanted.c.id,
        )
        .limit(1)
        .lateral("held")
    )
    return select(wanted.c.table_name, wanted.c.id).select_from(wanted).join(held, true())


_MEMBER_READS = DriverReads()
_TABLES = {table.value: table for table in Table}


def taxonomy_members(session: Session, tenant_id: uuid.UUID) -> set[Key]:
    query = select(Category.id).where(Category.tenant_id == tenant_id)
    return {(Table.CATEGORIES, row_id) for row_id in session.scalars(query)}


def scopes_holding(session: Session, tenant_id: uuid.UUID, row_ids: set[uuid.UUID]) -> set[str]:
    """Technician scopes that hold any of these rows."""
    found: set[str] = set()
    ids = sorted(row_ids)
    for start in range(0, len(ids), 1000):
        query = (
            select(SyncScopeMember.scope)
            .distinct()
            .where(
                SyncScopeMember.tenant_id == tenant_id,
                among(session, SyncScopeMember.row_id, ids[start : start + 1000]),
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
    held: bool  # the scope's stored members hold the row now (in this snapshot)


def changes_after(
    session: Session, tenant_id: uuid.UUID, cursors: dict[str, int], limit: int
) -> list[LoggedChange]:
    """Changes of these scopes past each scope's cursor, in change order, at most ``limit``.

    Each comes with whether its scope holds the row now: an upsert whose row has
    left the scope since must not be sent (its tombstone follows in the log).
    Looked up in the same statement, one index probe per change.
    """
    if not cursors:
        return []
    params: dict[str, Any] = {"tenant": tenant_id, "limit": limit}
    for index, (scope, after) in enumerate(sorted(cursors.items())):
        params[f"scope_{index}"] = scope
        params[f"after_{index}"] = after
    build = functools.partial(_changes_after, len(cursors))
    if session.get_bind().dialect.name == "postgresql":
        key = ("changes after", len(cursors))
        rows: Any = _CHANGE_READS.fetch(session.connection(), key, build, params)
    else:
        rows = session.execute(build(), params)
    return [LoggedChange(*row) for row in rows]


def one_scope(scope: Any) -> ColumnElement[bool]:
    """``sync_scope_changes.scope`` is ``scope`` (a value or a bound parameter), written
    so that PostgreSQL's generic plans read the (tenant, scope, change) index.

    The test is a range of one value (``>= scope AND <= scope``), and callers order
    by the whole index key. With ``scope = $2`` the primary key (tenant, change
    number) yields the change order too, and where one scope holds most of the log
    (a small tenant with one busy technician) the generic plan walked that key
    filtering on the scope: instant for the busy scope, a scan of the tenant's
    whole log for a quiet one (the taxonomy). A generic plan prices a range of
    unknown bounds as very selective, so it takes the scope's index range.
    ``tests/integration/test_sync_plans.py`` checks the plans.
    """
    return and_(SyncScopeChange.scope >= scope, SyncScopeChange.scope <= scope)


def _changes_after(scopes: int) -> Any:
    """Each scope's changes read on its own (an index range), merged in change order.

    One ``OR`` over the scopes made PostgreSQL's generic plan walk the tenant's whole
    log from its start and filter: every page read all the pages before it again.
    """
    if scopes == 1:
        return _scope_changes(0)
    parts = [_scope_changes(index).subquery(f"scope_{index}") for index in range(scopes)]
    merged = union_all(*(select(*part.c) for part in parts)).subquery("merged")
    limit = bindparam("limit", type_=BigInteger())
    return select(*merged.c).order_by(merged.c.change_seq).limit(limit)


def _scope_changes(index: int) -> Any:
    change = SyncScopeChange
    # 1 or NULL. A scalar subquery, not EXISTS: PostgreSQL answers EXISTS from a hash
    # of every member row (tens of thousands for one technician), but must probe the
    # primary key once per change for this.
    held = (
        select(literal_column("1"))
        .where(
            SyncScopeMember.tenant_id == change.tenant_id,
            SyncScopeMember.scope == change.scope,
            SyncScopeMember.table_name == change.table_name,
            SyncScopeMember.row_id == change.row_id,
        )
        .limit(literal_column("1", Integer))
        .scalar_subquery()
    )
    return (
        select(
            change.change_seq,
            change.scope,
            change.table_name,
            change.row_id,
            change.op,
            change.reason,
            held.is_not(None).label("held"),
        )
        .where(
            change.tenant_id == bindparam("tenant"),
            one_scope(bindparam(f"scope_{index}", type_=String())),
            change.change_seq > bindparam(f"after_{index}", type_=BigInteger()),
        )
        .order_by(change.tenant_id, change.scope, change.change_seq)
        .limit(bindparam("limit", type_=BigInteger()))
    )


_CHANGE_READS = DriverReads()
