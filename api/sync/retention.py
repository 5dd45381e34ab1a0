"""Keeping the change log small (PROTOCOL.md § 11.2, § 12): compaction and cursor floors.

The log grows by one entry per (scope, row) a transaction touches. Two kinds of
entry can go:

- **superseded** entries: a later entry of the same row in the same scope
  exists. A reader past any cursor gets the later one and ends in the same
  state (§ 8.4: the higher change number wins), so removing them is invisible
  to every device, whatever its cursor;
- **old tombstones** (older than the retention, 90 days by default): a device
  whose cursor is before one would miss it and keep a row it should drop. So
  the scope's *floor* is raised to the highest change number removed, and a
  pull with a cursor below the floor gets ``reset_required``
  ``sync.cursor_expired`` for that scope (push first, then re-prime).

Upserts that are the latest entry of a row are never removed: they are how a
device priming from scratch learns the row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Result, and_, delete, exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from api.sync.models import SyncScopeChange, SyncScopeFloor

RETENTION = timedelta(days=90)


@dataclass(frozen=True)
class Compaction:
    superseded: int
    expired_tombstones: int


def compact(
    session: Session, tenant_id: uuid.UUID, now: datetime, keep: timedelta = RETENTION
) -> Compaction:
    """Remove what no device needs; the caller commits."""
    later = aliased(SyncScopeChange)
    newer_exists = exists().where(
        later.tenant_id == SyncScopeChange.tenant_id,
        later.scope == SyncScopeChange.scope,
        later.row_id == SyncScopeChange.row_id,
        later.table_name == SyncScopeChange.table_name,
        later.change_seq > SyncScopeChange.change_seq,
    )
    superseded = _deleted(
        session.execute(
            delete(SyncScopeChange).where(SyncScopeChange.tenant_id == tenant_id, newer_exists)
        )
    )
    old_tombstones = and_(
        SyncScopeChange.tenant_id == tenant_id,
        SyncScopeChange.op == "tombstone",
        SyncScopeChange.recorded_at < now - keep,
    )
    floors = session.execute(
        select(SyncScopeChange.scope, func.max(SyncScopeChange.change_seq))
        .where(old_tombstones)
        .group_by(SyncScopeChange.scope)
    ).all()
    expired = _deleted(session.execute(delete(SyncScopeChange).where(old_tombstones)))
    for scope, floor in floors:
        _raise_floor(session, tenant_id, scope, floor)
    return Compaction(superseded, expired)


def floors(session: Session, tenant_id: uuid.UUID, scopes: list[str]) -> dict[str, int]:
    """The floors of these scopes (absent: never compacted past a tombstone)."""
    if not scopes:
        return {}
    query = select(SyncScopeFloor.scope, SyncScopeFloor.floor).where(
        SyncScopeFloor.tenant_id == tenant_id, SyncScopeFloor.scope.in_(scopes)
    )
    return {scope: floor for scope, floor in session.execute(query)}


def _deleted(result: Result[Any]) -> int:
    count = getattr(result, "rowcount", None)  # a CursorResult for DML
    return int(count or 0)


def _raise_floor(session: Session, tenant_id: uuid.UUID, scope: str, floor: int) -> None:
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = make(SyncScopeFloor).values(tenant_id=tenant_id, scope=scope, floor=floor)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[SyncScopeFloor.tenant_id, SyncScopeFloor.scope],
            set_={"floor": func.max(SyncScopeFloor.floor, statement.excluded.floor)}
            if session.get_bind().dialect.name == "sqlite"
            else {"floor": func.greatest(SyncScopeFloor.floor, statement.excluded.floor)},
        )
    )
