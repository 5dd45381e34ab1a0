"""Capturing every change of a syncable row into the change log, at commit, for any service.

Session events do the bookkeeping so no service has to: ``after_flush`` notes
which syncable rows a flush inserted, updated or deleted (a dictionary lookup
per flushed object; nothing else when none is syncable), and ``before_commit``
turns them into scope changes:

1. flush what is left, then lock the tenant's counter row (``SELECT … FOR
   UPDATE``; lazily inserted, so a wiped table is harmless);
2. find the scopes the changed rows touch: ``taxonomy`` for categories; for
   the rest, the technician scopes already holding the row or its parent
   (an order, a customer) plus the current assignee of each changed order;
3. when the transaction changed something structural (an assignment, asset
   links, a deletion), diff each touched technician scope's membership now
   against the stored members: rows entering get upserts, rows leaving get
   ``left_scope`` (or ``deleted``) tombstones, changed rows that stay get
   upserts. Otherwise membership can only grow by new children of rows the
   scope holds (evidence of its orders, contacts of its customers, the
   technician's own conflicts), which :mod:`api.sync.increments` adds without
   reading the whole scope;
4. number the changes from the counter (one ``UPDATE``) and insert them;
5. bring the touched scopes' running checksums up to date (:mod:`api.sync.tallies`):
   each upserted row's image is hashed once, and each scope's tally moves by
   the new digest minus the old.

The counter lock is held from step 1 to ``COMMIT``, so change numbers are
handed out in commit order and every snapshot sees a gap-free prefix of them
(PROTOCOL.md § 11.1). The lock is taken *before* the membership diff, not only
around the numbering: a scope's membership depends on rows other transactions
write (a new contact of a customer that another transaction is just bringing
into a scope), and computing it under the lock is what keeps two such writers
from each missing the other. A transaction with no syncable change does none of
this.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, event, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from api.db.bulk import insert_rows, with_defaults
from api.dispatching.models import Offer
from api.live import capture as live
from api.sync import increments, queries, tallies
from api.sync.models import (
    SyncConflict,
    SyncCounter,
    SyncQuarantine,
    SyncScopeChange,
    SyncScopeMember,
)
from api.sync.pending import Key, ScopeEntry, TenantChanges
from api.sync.syncables import SYNCABLE
from api.workorders.models import WorkOrder, WorkOrderAsset
from sync_protocol.entities import Table, TombstoneReason
from sync_protocol.scopes import TAXONOMY, Scope, ScopeKind, technician_scope

_INFO_KEY = "fieldline_sync_pending"
_QUEUED_KEY = "fieldline_sync_queued_rows"


def install() -> None:
    """Listen on every Session (idempotent)."""
    if not event.contains(Session, "after_flush", _collect):
        event.listen(Session, "after_flush", _collect)
        event.listen(Session, "before_commit", _record)
        event.listen(Session, "after_transaction_end", _forget)


def touch(session: Session, tenant_id: uuid.UUID, keys: Iterable[Key]) -> None:
    """Send these rows again to every scope holding them at commit, written or not.

    A client that pushed values the server did not take (a proposal, a superseded
    write, an ignored status) must be sent the server's row, or it keeps showing
    its own: WatermelonDB marks pushed rows synced and only a pull corrects them.
    """
    changes = _pending(session).setdefault(tenant_id, TenantChanges())
    for table, row_id in keys:
        changes.changed.add((table, row_id))
        changes.anchors.add(row_id)


def queue_insert(session: Session, model: Any, values: dict[str, Any]) -> None:
    """Insert a new syncable row without an ORM object: queued, and written with the
    other queued rows of its table in one statement (:func:`write_queued`) at the
    latest when the transaction commits. Captured like a flushed new row.

    For appends nothing else in the transaction reads back (a push's evidence):
    a ``SELECT`` does not see a queued row until :func:`write_queued` has run.
    """
    syncable = SYNCABLE[model]
    row = with_defaults(model, values)
    queued: dict[Any, list[dict[str, Any]]] = session.info.setdefault(_QUEUED_KEY, {})
    queued.setdefault(model, []).append(row)
    live.note_row(session, model.__tablename__, row)
    tenant_id, row_id = row["tenant_id"], row["id"]
    changes = _pending(session).setdefault(tenant_id, TenantChanges())
    key = (syncable.table, row_id)
    changes.changed.add(key)
    changes.anchors.add(row_id)
    changes.anchors.update(v for n in syncable.parents if (v := row.get(n)) is not None)
    parent = increments.parent_key(syncable, row)
    if parent is not None:
        changes.added[key] = parent


def write_queued(session: Session) -> None:
    """Write the rows :func:`queue_insert` holds, one statement per table."""
    queued: dict[Any, list[dict[str, Any]]] = session.info.pop(_QUEUED_KEY, {})
    if not queued:
        return
    if session.new or session.dirty or session.deleted:
        session.flush()  # what they refer to (an order created in the same batch) first
    for model, rows in queued.items():
        insert_rows(session.connection(), model, rows)


def _pending(session: Session) -> dict[uuid.UUID, TenantChanges]:
    return session.info.setdefault(_INFO_KEY, {})  # type: ignore[no-any-return]


def _collect(session: Session, _context: Any) -> None:
    for obj in session.new:
        _note(session, obj, new=True)
    for obj in session.dirty:
        _note(session, obj)
    for obj in session.deleted:
        _note(session, obj, deleted=True)


def mark_structural(session: Session, tenant_id: uuid.UUID) -> None:
    """Declare a change the session events cannot see that may move rows between scopes.

    For writes that bypass the ORM (the asset-link replacement deletes links with
    one statement): every touched scope then gets a full membership diff.
    """
    _pending(session).setdefault(tenant_id, TenantChanges()).structural = True


def _note(session: Session, obj: Any, *, new: bool = False, deleted: bool = False) -> None:
    if isinstance(obj, WorkOrderAsset):
        # The links are part of the order's image (``asset_ids``) and decide which
        # assets and asset history its holders replicate.
        loaded = inspect(obj).dict
        changes = _pending(session).setdefault(loaded["tenant_id"], TenantChanges())
        changes.changed.add((Table.WORK_ORDERS, loaded["work_order_id"]))
        changes.changed.add((Table.ASSET_HISTORY, loaded["work_order_id"]))
        # Scopes holding the asset see the order enter (or leave) its history.
        changes.anchors.update((loaded["work_order_id"], loaded["asset_id"]))
        changes.structural = True
        return
    syncable = SYNCABLE.get(type(obj))
    if syncable is None:
        return
    # A deleted row's attributes are read from what the session holds: loading
    # an expired one would query a row this transaction has just deleted.
    loaded = inspect(obj).dict
    tenant_id, row_id = loaded.get("tenant_id"), loaded.get("id")
    if tenant_id is None or row_id is None:
        return  # only a deleted, never-loaded row; nothing of it can be in a scope
    changes = _pending(session).setdefault(tenant_id, TenantChanges())
    key = (syncable.table, row_id)
    (changes.deleted if deleted else changes.changed).add(key)
    changes.anchors.add(row_id)
    changes.anchors.update(v for n in syncable.parents if (v := loaded.get(n)) is not None)
    if deleted:
        changes.structural = True
    if isinstance(obj, WorkOrder):
        changes.changed.add((Table.ASSET_HISTORY, row_id))  # the order as asset history
        for holder in ("assignee_id", "creator_technician_id"):
            if loaded.get(holder) is not None:
                changes.assignees.add(loaded[holder])
        if new or _holder_changed(obj):
            changes.structural = True
    elif isinstance(obj, SyncConflict | SyncQuarantine | Offer) and loaded.get("technician_id"):
        changes.assignees.add(loaded["technician_id"])
        if new:
            changes.owned[key] = loaded["technician_id"]
    elif new:
        parent = increments.parent_key(syncable, loaded)
        if parent is not None:
            changes.added[key] = parent


def _holder_changed(order: WorkOrder) -> bool:
    state = inspect(order)
    return any(
        state.attrs[name].history.has_changes() for name in ("assignee_id", "creator_technician_id")
    )


def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_INFO_KEY, None)
        session.info.pop(_QUEUED_KEY, None)


def _record(session: Session) -> None:
    if session.in_nested_transaction():
        return
    write_queued(session)
    if session.new or session.dirty or session.deleted:
        session.flush()  # commit would flush after this hook; the log needs it now
    pending: dict[uuid.UUID, TenantChanges] = session.info.pop(_INFO_KEY, {})
    for tenant_id in sorted(pending):  # a fixed lock order across tenants
        _record_tenant(session, tenant_id, pending[tenant_id])


def _record_tenant(session: Session, tenant_id: uuid.UUID, changes: TenantChanges) -> None:
    last = _lock_counter(session, tenant_id)
    entries = _taxonomy_entries(changes)
    for scope in _touched_technician_scopes(session, tenant_id, changes):
        if changes.structural:
            entries += _technician_entries(session, tenant_id, scope, changes)
        else:
            entries += increments.entries(session, tenant_id, scope, changes)
    if not entries:
        return
    session.execute(
        update(SyncCounter)
        .where(SyncCounter.tenant_id == tenant_id)
        .values(value=last + len(entries))
    )
    # One statement on the connection (:mod:`api.db.bulk`): the session's ORM bulk insert
    # adds per-row work (a push writes a thousand entries) that rows never loaded as
    # objects do not need.
    insert_rows(
        session.connection(),
        SyncScopeChange,
        [
            {
                "tenant_id": tenant_id,
                "change_seq": last + ordinal,
                "scope": e.scope,
                "table_name": e.table.value,
                "row_id": e.row_id,
                "op": e.op,
                "reason": e.reason.value if e.reason else None,
            }
            for ordinal, e in enumerate(entries, start=1)
        ],
    )
    tallies.apply(session, tenant_id, entries, last + 1)


def _lock_counter(session: Session, tenant_id: uuid.UUID) -> int:
    lock = select(SyncCounter.value).where(SyncCounter.tenant_id == tenant_id).with_for_update()
    value = session.scalar(lock)
    if value is None:
        dialect = session.get_bind().dialect.name
        make = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(
            make(SyncCounter).values(tenant_id=tenant_id, value=0).on_conflict_do_nothing()
        )
        value = session.scalar(lock)
    return value or 0


def _taxonomy_entries(changes: TenantChanges) -> list[ScopeEntry]:
    scope = str(TAXONOMY)
    entries = [
        ScopeEntry(scope, table, row_id, "tombstone", TombstoneReason.DELETED)
        for table, row_id in sorted(changes.deleted)
        if table is Table.CATEGORIES
    ]
    entries += [
        ScopeEntry(scope, table, row_id, "upsert")
        for table, row_id in sorted(changes.changed - changes.deleted)
        if table is Table.CATEGORIES
    ]
    return entries


def _touched_technician_scopes(
    session: Session, tenant_id: uuid.UUID, changes: TenantChanges
) -> list[Scope]:
    # A row inserted now is in no scope yet (its parent, an anchor too, may be).
    anchors = changes.anchors - {row_id for _, row_id in changes.added}
    names = queries.scopes_holding(session, tenant_id, anchors) if anchors else set()
    scopes = {Scope.parse(name) for name in names}
    scopes |= {technician_scope(t) for t in changes.assignees}
    return sorted(s for s in scopes if s.kind is ScopeKind.TECHNICIAN)


def _technician_entries(
    session: Session, tenant_id: uuid.UUID, scope: Scope, changes: TenantChanges
) -> list[ScopeEntry]:
    assert scope.subject is not None
    name = str(scope)
    now = queries.technician_members(session, tenant_id, scope.subject)
    before = queries.stored_members(session, tenant_id, name)
    entering, leaving = sorted(now - before), sorted(before - now)
    entries = [
        ScopeEntry(
            name,
            table,
            row_id,
            "tombstone",
            TombstoneReason.DELETED
            if (table, row_id) in changes.deleted
            else TombstoneReason.LEFT_SCOPE,
        )
        for table, row_id in leaving
    ]
    entries += [ScopeEntry(name, t, r, "upsert") for t, r in entering]
    entries += [ScopeEntry(name, t, r, "upsert") for t, r in sorted(changes.changed & before & now)]
    if entering:
        insert_rows(
            session.connection(),
            SyncScopeMember,
            [
                {"tenant_id": tenant_id, "scope": name, "table_name": t.value, "row_id": r}
                for t, r in entering
            ],
        )
    for table, row_id in leaving:
        session.execute(
            delete(SyncScopeMember).where(
                SyncScopeMember.tenant_id == tenant_id,
                SyncScopeMember.scope == name,
                SyncScopeMember.table_name == table.value,
                SyncScopeMember.row_id == row_id,
            )
        )
    return entries


def prime_tenant(session: Session, tenant_id: uuid.UUID) -> int:
    """Bring every current row of the tenant's scopes into the change log; the changes made.

    The log starts when migration 0002 runs, so rows that existed before it are
    in no scope until they next change. Priming diffs every technician with
    assigned orders as if their orders had changed, and upserts every category.
    Idempotent: rows a scope already holds get no second entry (categories do,
    harmlessly). The caller commits.
    """
    changes = TenantChanges(structural=True)
    changes.changed = queries.taxonomy_members(session, tenant_id)
    changes.assignees = queries.assignees(session, tenant_id)
    before = queries.high_water(session, tenant_id)
    _record_tenant(session, tenant_id, changes)
    return queries.high_water(session, tenant_id) - before


def age_out(session: Session, tenant_id: uuid.UUID) -> int:
    """Let orders closed or cancelled over 7 days ago leave the scopes still holding them.

    Membership is re-diffed when something structural happens in a scope; a quiet
    technician would otherwise keep finished orders for good. Run daily (``fieldline
    sync-compact`` does); the changes made. The caller commits.
    """
    holders = queries.technicians_holding_aged_orders(session, tenant_id)
    if not holders:
        return 0
    changes = TenantChanges(structural=True, assignees=holders)
    before = queries.high_water(session, tenant_id)
    _record_tenant(session, tenant_id, changes)
    return queries.high_water(session, tenant_id) - before


def recount_tenant(session: Session, tenant_id: uuid.UUID) -> int:
    """Count every scope's running checksum of the tenant afresh (``sync-prime --recount``),
    under the counter lock so no write moves a tally meanwhile; the scopes counted.
    The caller commits."""
    _lock_counter(session, tenant_id)
    scopes = sorted(scope for _, scope in tallies.known_scopes(session, tenant_id))
    for scope in scopes:
        tallies.recount(session, tenant_id, scope)
    return len(scopes)
