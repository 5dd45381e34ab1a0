"""Reads of the conflict inbox, the quarantine and the device registry: ``select()`` only.

Inbox items (PROTOCOL.md § 8.6): the records of one ``(entity, field, device)``
that are open together are one item, and the records a dispatcher resolved in
one go stay one item (they share ``resolved_at``). An item is shown as its
newest record with ``proposals`` listing all of its records, oldest first; it is
paged newest first by that newest record's id (UUIDv7, so by arrival), which
keeps keyset pages stable while new records arrive (a new proposal moves its
item to the front of the inbox).

Every accessor is tenant-scoped and actor-aware: what the caller may not see is
a 404, exactly as if it did not exist.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, aliased

from api.auth.actor import Actor
from api.evidence.models import Photo
from api.http.pagination import Page, paginate
from api.sync.inbox.errors import ConflictNotFound, DeviceNotFound, QuarantineEntryNotFound
from api.sync.models import SyncConflict, SyncDevice, SyncQuarantine
from sync_protocol.records import ConflictState, QuarantineState

GroupKey = tuple[uuid.UUID, str, uuid.UUID | None, datetime | None]


@dataclass(frozen=True)
class ConflictItem:
    """One inbox item: ``record`` (the one asked for, or the newest) and all of its records."""

    record: SyncConflict
    proposals: list[SyncConflict]

    def __getattr__(self, name: str) -> Any:
        # The item reads as its record (§ 6.5 members) plus ``proposals``.
        return getattr(self.record, name)


@dataclass(frozen=True)
class DeviceCounts:
    quarantined: int = 0
    open_conflicts: int = 0
    pending_blobs: int = 0


def list_conflicts(
    session: Session,
    actor: Actor,
    *,
    state: ConflictState,
    limit: int,
    cursor: str | None,
    work_order_id: uuid.UUID | None = None,
    technician_id: uuid.UUID | None = None,
    device_id: uuid.UUID | None = None,
) -> Page:
    """One page of inbox items in ``state``, newest first."""
    newer = aliased(SyncConflict)
    heads = select(SyncConflict).where(
        SyncConflict.tenant_id == actor.tenant_id,
        SyncConflict.state == state.value,
        # The item's newest record stands for it: no newer record in the same item.
        ~exists().where(
            newer.tenant_id == SyncConflict.tenant_id,
            newer.entity_id == SyncConflict.entity_id,
            newer.field == SyncConflict.field,
            newer.state == SyncConflict.state,
            newer.device_id.is_not_distinct_from(SyncConflict.device_id),
            newer.resolved_at.is_not_distinct_from(SyncConflict.resolved_at),
            newer.id > SyncConflict.id,
        ),
    )
    for column, wanted in (
        (SyncConflict.entity_id, work_order_id),
        (SyncConflict.technician_id, technician_id),
        (SyncConflict.device_id, device_id),
    ):
        if wanted is not None:
            heads = heads.where(column == wanted)
    page = paginate(session, heads, SyncConflict.id, limit=limit, cursor=cursor, descending=True)
    return Page(items=_items(session, actor, list(page.items)), next_cursor=page.next_cursor)


def read_conflict(session: Session, actor: Actor, conflict_id: uuid.UUID) -> ConflictItem:
    """The record with every record of its inbox item."""
    record = access_conflict(session, actor, conflict_id)
    return ConflictItem(record, conflict_group(session, record))


def access_conflict(
    session: Session, actor: Actor, conflict_id: uuid.UUID, *, for_update: bool = False
) -> SyncConflict:
    stmt = select(SyncConflict).where(
        SyncConflict.tenant_id == actor.tenant_id, SyncConflict.id == conflict_id
    )
    record = session.scalars(stmt.with_for_update() if for_update else stmt).one_or_none()
    if record is None or not actor.is_office:
        raise ConflictNotFound()
    return record


def conflict_group(
    session: Session, record: SyncConflict, *, for_update: bool = False
) -> list[SyncConflict]:
    """Every record of ``record``'s inbox item, oldest first (``record`` included)."""
    stmt = select(SyncConflict).where(
        SyncConflict.tenant_id == record.tenant_id,
        SyncConflict.entity_id == record.entity_id,
        SyncConflict.field == record.field,
        SyncConflict.state == record.state,
        _same(SyncConflict.device_id, record.device_id),
        _same(SyncConflict.resolved_at, record.resolved_at),
    )
    stmt = stmt.order_by(SyncConflict.id)
    return list(session.scalars(stmt.with_for_update() if for_update else stmt))


def list_quarantine(
    session: Session,
    actor: Actor,
    *,
    limit: int,
    cursor: str | None,
    state: QuarantineState | None = None,
    device_id: uuid.UUID | None = None,
    technician_id: uuid.UUID | None = None,
) -> Page:
    """Parked (and settled) mutations, newest first: a technician sees their own devices'."""
    stmt = _quarantine_visible(actor)
    if state is not None:
        stmt = stmt.where(SyncQuarantine.state == state.value)
    if device_id is not None:
        stmt = stmt.where(SyncQuarantine.device_id == device_id)
    if technician_id is not None:
        stmt = stmt.where(SyncQuarantine.technician_id == technician_id)
    return paginate(session, stmt, SyncQuarantine.id, limit=limit, cursor=cursor, descending=True)


def access_entry(
    session: Session, actor: Actor, entry_id: uuid.UUID, *, for_update: bool = False
) -> SyncQuarantine:
    stmt = _quarantine_visible(actor).where(SyncQuarantine.id == entry_id)
    entry = session.scalars(stmt.with_for_update() if for_update else stmt).one_or_none()
    if entry is None:
        raise QuarantineEntryNotFound()
    return entry


def list_devices(
    session: Session,
    actor: Actor,
    *,
    limit: int,
    cursor: str | None,
    technician_id: uuid.UUID | None = None,
) -> Page:
    """The tenant's devices, by id."""
    stmt = select(SyncDevice).where(SyncDevice.tenant_id == actor.tenant_id)
    if technician_id is not None:
        stmt = stmt.where(SyncDevice.technician_id == technician_id)
    return paginate(session, stmt, SyncDevice.id, limit=limit, cursor=cursor)


def access_device(
    session: Session, actor: Actor, device_id: uuid.UUID, *, for_update: bool = False
) -> SyncDevice:
    stmt = select(SyncDevice).where(
        SyncDevice.tenant_id == actor.tenant_id, SyncDevice.id == device_id
    )
    device = session.scalars(stmt.with_for_update() if for_update else stmt).one_or_none()
    if device is None or not actor.is_office:
        raise DeviceNotFound()
    return device


def device_counts(
    session: Session, tenant_id: uuid.UUID, device_ids: list[uuid.UUID]
) -> dict[uuid.UUID, DeviceCounts]:
    """Parked entries, open conflicts and photos waiting for bytes, per device."""
    if not device_ids:
        return {}
    found: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for name, model, state in (
        ("quarantined", SyncQuarantine, QuarantineState.PARKED.value),
        ("open_conflicts", SyncConflict, ConflictState.OPEN.value),
        ("pending_blobs", Photo, "pending"),
    ):
        query = (
            select(model.device_id, func.count())
            .where(
                model.tenant_id == tenant_id,
                model.device_id.in_(device_ids),
                model.state == state,
            )
            .group_by(model.device_id)
        )
        for device_id, count in session.execute(query):
            found[device_id][name] = count
    return {device_id: DeviceCounts(**found.get(device_id, {})) for device_id in device_ids}


def _key(record: SyncConflict) -> GroupKey:
    return (record.entity_id, record.field, record.device_id, record.resolved_at)


def _items(session: Session, actor: Actor, heads: list[SyncConflict]) -> list[ConflictItem]:
    """The items these newest records stand for, in their order."""
    if not heads:
        return []
    members: dict[GroupKey, list[SyncConflict]] = defaultdict(list)
    query = (
        select(SyncConflict)
        .where(
            SyncConflict.tenant_id == actor.tenant_id,
            SyncConflict.entity_id.in_(sorted({h.entity_id for h in heads})),
            SyncConflict.state.in_(sorted({h.state for h in heads})),
        )
        .order_by(SyncConflict.id)
    )
    for record in session.scalars(query):
        members[_key(record)].append(record)
    return [ConflictItem(head, members[_key(head)]) for head in heads]


def _quarantine_visible(actor: Actor) -> Select[tuple[SyncQuarantine]]:
    stmt = select(SyncQuarantine).where(SyncQuarantine.tenant_id == actor.tenant_id)
    if actor.is_office:
        return stmt
    # A technician's own devices; anyone else (no technician) sees nothing.
    return stmt.where(SyncQuarantine.technician_id == (actor.technician_id or uuid.UUID(int=0)))


def _same(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == value
