"""The quiet pull: nothing changed since the device's cursors, answered with one statement.

Most pulls are a device asking "anything new?" every few seconds and hearing
"no". The full pull (:mod:`api.sync.services`) opens a snapshot and makes
about eight round trips to say so. Here one ``SELECT`` (itself a consistent
snapshot) reads everything that decides it: the login's device binding, the
device's row, the tenant's change counter, and each scope's last change and
compaction floor (a scope has news exactly when its last change is past its
cursor). If the answer is
plainly "nothing new" (a known, live device of the technician pulling their
own scopes, cursors inside the log, no change past them, checkpoints already
computed in this process, health recorded recently) the response is built from
that; anything else (first contact, a refusal, a reset, a change to send)
returns None and the full pull runs, so every rule is still applied there.
On PostgreSQL the worker remembers the row while no commit can have changed it
(:mod:`api.sync.quiet_rows`), so a repeated poll makes no round trip at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, String, Uuid, and_, bindparam, literal, select

from api.auth.actor import Actor
from api.auth.models import AuthSession
from api.db import utcnow
from api.db.driver_reads import DriverReads
from api.sync import checkpoints, clock
from api.sync.models import SyncCounter, SyncDevice, SyncScopeFloor
from api.sync.quiet_rows import QuietRows
from sync_protocol.messages import Checkpoint, PullRequest, PullResponse
from sync_protocol.scopes import Scope, ScopeKind

HEALTH_INTERVAL = timedelta(seconds=30)  # as api.sync.devices: health is written at most this often


def quiet_pull(
    connection: Connection,
    actor: Actor,
    request: PullRequest,
    cursors: dict[str, int],
    rows: QuietRows | None = None,
) -> PullResponse | None:
    """The no-op answer, or None when the full pull must decide.

    ``rows``: the worker's memory of rows read lately (:mod:`api.sync.quiet_rows`).
    """
    if not _plain(actor, cursors):
        return None
    row = _row(connection, actor, request, sorted(cursors), rows)
    if not _device_ok(actor, request, row):
        return None
    top: int = row[_TOP] or 0
    if any(after > top for after in cursors.values()):
        return None
    summaries = {}
    for index, scope in enumerate(sorted(cursors)):
        latest = row[_SCOPES + 2 * index] or 0
        floor = row[_SCOPES + 2 * index + 1] or 0
        if cursors[scope] < floor or latest > cursors[scope]:
            return None  # expired, or changes to send: the full pull does both
        summary = checkpoints.CACHE.peek(actor.tenant_id, scope, latest, floor)
        if summary is None:
            return None
        summaries[scope] = summary
    next_cursors = {scope: f"c1.{max(after, top)}" for scope, after in cursors.items()}
    return PullResponse(
        server_time=clock.now(),
        changes=(),
        cursors=next_cursors,
        has_more=False,
        checkpoint=Checkpoint(
            cursors=dict(next_cursors),
            checksums={scope: s.checksum for scope, s in summaries.items()},
            counts={scope: s.count for scope, s in summaries.items()},
        ),
    )


def _plain(actor: Actor, cursors: dict[str, int]) -> bool:
    """A technician pulling their own scopes from cursors they already have."""
    if actor.user_id is None or actor.technician_id is None or not cursors:
        return False
    for name, after in cursors.items():
        if after <= 0:
            return False
        scope = Scope.parse(name)
        if scope.kind is ScopeKind.TECHNICIAN and scope.subject != actor.technician_id:
            return False
    return True


# Positions in the row :func:`_read` returns.
_TOP, _BINDING, _USER, _RETIRED, _LAST_PULL, _PENDING, _OLDEST, _PROTOCOL, _SCHEMA = range(9)
_SCOPES = 9  # then (latest, floor) per scope, in scope-name order

_READS = DriverReads()


def _row(
    connection: Connection,
    actor: Actor,
    request: PullRequest,
    scopes: list[str],
    rows: QuietRows | None,
) -> Sequence[Any]:
    if rows is None:
        return _read(connection, actor, request, scopes)
    key = (actor.tenant_id, request.device_id, actor.session_id, tuple(scopes))
    kept = rows.get(key)
    if kept is not None:
        return kept
    stamp = rows.stamp()
    row = _read(connection, actor, request, scopes)
    rows.put(stamp, key, row)
    return row


def _read(
    connection: Connection, actor: Actor, request: PullRequest, scopes: list[str]
) -> Sequence[Any]:
    """The one row that decides; on PostgreSQL a statement compiled once per shape."""
    params: dict[str, Any] = {
        "tenant": actor.tenant_id,
        "device": request.device_id,
        "session": actor.session_id,
        **{f"scope_{index}": scope for index, scope in enumerate(scopes)},
    }
    if connection.dialect.name != "postgresql":
        return connection.execute(_statement(len(scopes)), params).one()
    key = ("quiet pull", len(scopes))
    rows = _READS.fetch(connection, key, lambda: _statement(len(scopes)), params)
    first: Sequence[Any] = rows[0]
    return first


def _statement(scope_count: int) -> Any:
    tenant = bindparam("tenant", type_=Uuid())
    binding = select(AuthSession.device_id).where(
        AuthSession.id == bindparam("session", type_=Uuid())
    )
    columns: list[Any] = [
        select(SyncCounter.value).where(SyncCounter.tenant_id == tenant).scalar_subquery(),
        binding.scalar_subquery(),
        SyncDevice.user_id,
        SyncDevice.retired_at,
        SyncDevice.last_pull_at,
        SyncDevice.pending,
        SyncDevice.oldest_pending,
        SyncDevice.protocol,
        SyncDevice.schema,
    ]
    for index in range(scope_count):
        scope = bindparam(f"scope_{index}", type_=String())
        floor = select(SyncScopeFloor.floor).where(
            SyncScopeFloor.tenant_id == tenant, SyncScopeFloor.scope == scope
        )
        columns += [
            checkpoints.last_change_of(tenant, scope).scalar_subquery(),
            floor.scalar_subquery(),
        ]
    one = select(literal(1).label("one")).subquery()
    device_id = bindparam("device", type_=Uuid())
    device = and_(SyncDevice.tenant_id == tenant, SyncDevice.id == device_id)
    return select(*columns).select_from(one.outerjoin(SyncDevice, device))


def _device_ok(actor: Actor, request: PullRequest, row: Sequence[Any]) -> bool:
    """A registered, live device of this login whose health was recorded lately."""
    if row[_BINDING] is not None and row[_BINDING] != str(request.device_id):
        return False
    if row[_USER] != actor.user_id or row[_RETIRED] is not None:
        return False
    last_pull = row[_LAST_PULL]
    if last_pull is None or utcnow() - _aware(last_pull) > HEALTH_INTERVAL:
        return False
    oldest = str(request.outbox.oldest) if request.outbox.oldest else None
    reported = (request.outbox.pending, oldest, request.protocol, request.schema)
    return (row[_PENDING], row[_OLDEST], row[_PROTOCOL], row[_SCHEMA]) == reported


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
