"""The pull use case (PROTOCOL.md § 6.3, § 11): read a request, answer one page of changes.

Each page is read in one snapshot (REPEATABLE READ on PostgreSQL, a deferred
read transaction on SQLite's WAL), so the changes, the row images materialised
for them, the high-water mark and the checkpoint agree with each other. Nothing
is written. Refusals are :class:`~sync_protocol.errors.ProtocolError`; a client
that must re-prime gets a :class:`~sync_protocol.records.ResetRequired`.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.db import UnitOfWorkFactory
from api.sync import checkpoints, clock, noop, queries, retention, tallies
from api.sync.devices import find_device, record_pull, retired
from api.sync.models import SyncDevice
from api.sync.quiet_rows import QuietRows
from api.sync.rows import group_by_table, materialise
from api.sync.syncables import Row
from api.technicians.models import Technician
from sync_protocol.checksum import scope_checksum
from sync_protocol.entities import Table, TombstoneReason
from sync_protocol.errors import ProtocolError
from sync_protocol.hlc import HLC, system_ms
from sync_protocol.messages import (
    Change,
    Checkpoint,
    PullRequest,
    PullResponse,
    RowUpsert,
    Tombstone,
)
from sync_protocol.records import ResetRequired
from sync_protocol.scopes import Scope, ScopeKind
from sync_protocol.versions import MIN_SCHEMA_VERSION, check_versions, read_versions
from sync_protocol.wire import decode

CURSOR_PREFIX = "c1."


def pull(
    uow: UnitOfWorkFactory,
    actor: Actor,
    body: bytes,
    reader: Connection | None = None,
    quiet_rows: QuietRows | None = None,
) -> PullResponse | ResetRequired:
    """One page of the actor's scopes past their cursors, or why the client must re-prime.

    ``reader``: a read connection to try the one-statement no-op answer on first
    (:mod:`api.sync.noop`); the request's own, so a quiet pull needs no other.
    ``quiet_rows``: the worker's memory of that statement's rows, if it keeps one.
    """
    value = decode(body)
    reset = check_versions(read_versions(value), pushing=False)
    if reset is not None:
        return reset
    request = PullRequest.from_json(value)
    receive_ms = system_ms()
    cursors = {scope: read_cursor(scope, cursor) for scope, cursor in request.cursors.items()}
    if reader is not None:
        quiet = noop.quiet_pull(reader, actor, request, cursors, quiet_rows)
        if quiet is not None:
            return quiet
    with read_snapshot(uow) as session:
        device = _check_device(session, actor, request.device_id)
        if device is not None and device.retired_at is not None:
            return retired()
        _authorise(session, actor, cursors)
        top = queries.high_water(session, actor.tenant_id)
        ahead = sorted(scope for scope, after in cursors.items() if after > top)
        if ahead:
            return ResetRequired(
                "sync.server_restored",
                f"The cursor of {ahead[0]} is past this server's change {top}",
                push_first=True,
                min_schema=MIN_SCHEMA_VERSION,
                scopes=tuple(ahead),
            )
        expired = _expired(session, actor.tenant_id, cursors)
        if expired:
            return ResetRequired(
                "sync.cursor_expired",
                f"The change log no longer reaches back to the cursor of {expired[0]}",
                push_first=True,
                min_schema=MIN_SCHEMA_VERSION,
                scopes=tuple(expired),
            )
        page = _page(session, actor.tenant_id, cursors, request.limit, top)
    if actor.user_id is not None:
        record_pull(uow, actor, request, page, receive_ms, device)
    return page


def read_cursor(scope: str, cursor: str | None) -> int:
    if cursor is None:
        return 0
    number = cursor.removeprefix(CURSOR_PREFIX)
    if cursor.startswith(CURSOR_PREFIX) and number.isascii() and number.isdigit():
        return int(number)
    raise ProtocolError("sync.invalid_value", "Not a cursor this server gave", f"cursors.{scope}")


def write_cursor(change_seq: int) -> str:
    return f"{CURSOR_PREFIX}{change_seq}"


def _expired(session: Session, tenant_id: uuid.UUID, cursors: dict[str, int]) -> list[str]:
    """Scopes whose cursor is below what compaction removed (a fresh start never is)."""
    started = sorted(scope for scope, after in cursors.items() if after > 0)
    floor = retention.floors(session, tenant_id, started)
    return [scope for scope in started if cursors[scope] < floor.get(scope, 0)]


def _check_device(session: Session, actor: Actor, device_id: uuid.UUID) -> SyncDevice | None:
    """The caller's registered device; API keys (integrations) pull without one."""
    if actor.user_id is None:
        return None
    device = find_device(session, actor, device_id)
    if device is not None:
        session.expunge(device)  # read after the snapshot ends (its rollback would expire it)
    return device


def _authorise(session: Session, actor: Actor, cursors: dict[str, int]) -> None:
    for name in cursors:
        scope = Scope.parse(name)
        if scope.kind is ScopeKind.TAXONOMY:
            continue
        if actor.is_office:
            known = session.scalar(
                select(Technician.id).where(
                    Technician.tenant_id == actor.tenant_id, Technician.id == scope.subject
                )
            )
            if known is not None:
                continue
        elif actor.technician_id is not None and scope.subject == actor.technician_id:
            continue
        raise ProtocolError("sync.scope_forbidden", f"{name} is not yours", f"cursors.{name}")


def _page(
    session: Session, tenant_id: uuid.UUID, cursors: dict[str, int], limit: int, top: int
) -> PullResponse:
    found = queries.changes_after(session, tenant_id, cursors, limit + 1)
    has_more = len(found) > limit
    page = found[:limit]
    latest = {(c.scope, Table(c.table_name), c.row_id): c for c in page}  # last one wins
    # A row that left its scope since is not sent: its tombstone follows in the log.
    sent = {k for k, c in latest.items() if c.op == "upsert" and (c.held or _whole_table(k[0]))}
    images = {
        table: materialise(session, tenant_id, table, ids)
        for table, ids in group_by_table((t, r) for _, t, r in sent).items()
    }
    changes: list[Change] = []
    for (scope, table, row_id), change in sorted(latest.items(), key=lambda i: i[1].change_seq):
        if change.op == "tombstone":
            reason = TombstoneReason(change.reason or TombstoneReason.LEFT_SCOPE)
            changes.append(Tombstone(scope, table, row_id, change.change_seq, reason))
            continue
        row = images.get(table, {}).get(row_id)
        if row is None or (scope, table, row_id) not in sent:
            continue  # deleted or left the scope since: its tombstone follows in the log
        changes.append(RowUpsert(scope, table, row_id, change.change_seq, row))
    reached = page[-1].change_seq if has_more else top
    next_cursors = {scope: write_cursor(max(after, reached)) for scope, after in cursors.items()}
    checkpoint = None if has_more else _checkpoint(session, tenant_id, next_cursors)
    return PullResponse(
        server_time=_clock_now(),
        changes=tuple(changes),
        cursors=next_cursors,
        has_more=has_more,
        checkpoint=checkpoint,
    )


def _whole_table(scope: str) -> bool:
    """The taxonomy scope holds every category of the tenant (no stored members)."""
    return Scope.parse(scope).kind is ScopeKind.TAXONOMY


def scope_members(
    session: Session, tenant_id: uuid.UUID, scope: str
) -> set[tuple[Table, uuid.UUID]]:
    """What a replica of ``scope`` holds once it has applied every change so far."""
    return tallies.members(session, tenant_id, scope)


def scope_rows(session: Session, tenant_id: uuid.UUID, scope: str) -> list[tuple[str, Row]]:
    """The images of every row of ``scope``: what its checksum is computed over."""
    rows: list[tuple[str, Row]] = []
    grouped = group_by_table(scope_members(session, tenant_id, scope))
    for table, ids in sorted(grouped.items()):
        rows += [(table.value, row) for row in materialise(session, tenant_id, table, ids).values()]
    return rows


def _checkpoint(session: Session, tenant_id: uuid.UUID, cursors: dict[str, str]) -> Checkpoint:
    checksums: dict[str, str] = {}
    counts: dict[str, int] = {}
    for scope in cursors:
        summary = checkpoints.CACHE.summary(
            session, tenant_id, scope, functools.partial(summarise, session, tenant_id, scope)
        )
        checksums[scope] = summary.checksum
        counts[scope] = summary.count
    return Checkpoint(cursors=dict(cursors), checksums=checksums, counts=counts)


def summarise(session: Session, tenant_id: uuid.UUID, scope: str) -> checkpoints.ScopeSummary:
    """The scope's running tally in this snapshot; counted afresh only for a scope
    that has none yet (a database not yet recounted, see :mod:`api.sync.tallies`)."""
    tally = tallies.read(session, tenant_id, scope)
    if tally is not None:
        return checkpoints.ScopeSummary(tally.checksum, tally.count)
    return full_summary(session, tenant_id, scope)


def full_summary(session: Session, tenant_id: uuid.UUID, scope: str) -> checkpoints.ScopeSummary:
    """The checksum computed from every row of the scope (what a tally must equal)."""
    rows = scope_rows(session, tenant_id, scope)
    return checkpoints.ScopeSummary(scope_checksum(rows), len(rows))


def _clock_now() -> HLC:
    return clock.now()


@contextmanager
def read_snapshot(uow: UnitOfWorkFactory) -> Iterator[Session]:
    """A read-only session whose every statement sees the same snapshot: REPEATABLE
    READ on PostgreSQL; on SQLite's WAL one read transaction already is one."""
    options: dict[str, object] = {"fieldline_read_only": True}
    if uow.engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    with Session(uow.engine.execution_options(**options)) as session:
        try:
            yield session
        finally:
            session.rollback()
