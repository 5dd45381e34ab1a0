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
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, and_, literal, select
from sqlalchemy.sql import ColumnElement

from api.auth.actor import Actor
from api.auth.models import AuthSession
from api.db import utcnow
from api.sync import checkpoints, clock
from api.sync.models import SyncCounter, SyncDevice, SyncScopeFloor
from sync_protocol.messages import Checkpoint, PullRequest, PullResponse
from sync_protocol.scopes import Scope, ScopeKind

HEALTH_INTERVAL = timedelta(seconds=30)  # as api.sync.devices: health is written at most this often


def quiet_pull(
    connection: Connection, actor: Actor, request: PullRequest, cursors: dict[str, int]
) -> PullResponse | None:
    """The no-op answer, or None when the full pull must decide."""
    if not _plain(actor, cursors):
        return None
    row: Any = connection.execute(_statement(actor, request, cursors)).one()
    if not _device_ok(actor, request, row):
        return None
    top: int = row.top or 0
    if any(after > top for after in cursors.values()):
        return None
    summaries = {}
    for index, scope in enumerate(sorted(cursors)):
        latest = row._mapping[f"latest_{index}"] or 0
        floor = row._mapping[f"floor_{index}"] or 0
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


def _statement(actor: Actor, request: PullRequest, cursors: dict[str, int]) -> Any:
    tenant = actor.tenant_id
    columns: list[Any] = [
        select(SyncCounter.value)
        .where(SyncCounter.tenant_id == tenant)
        .scalar_subquery()
        .label("top"),
        _binding(actor).label("binding"),
        SyncDevice.user_id,
        SyncDevice.retired_at,
        SyncDevice.last_pull_at,
        SyncDevice.pending,
        SyncDevice.oldest_pending,
        SyncDevice.protocol,
        SyncDevice.schema,
    ]
    for index, scope in enumerate(sorted(cursors)):
        latest = checkpoints.last_change_of(tenant, scope)
        floor = select(SyncScopeFloor.floor).where(
            SyncScopeFloor.tenant_id == tenant, SyncScopeFloor.scope == scope
        )
        columns += [
            latest.scalar_subquery().label(f"latest_{index}"),
            floor.scalar_subquery().label(f"floor_{index}"),
        ]
    one = select(literal(1).label("one")).subquery()
    device = and_(SyncDevice.tenant_id == tenant, SyncDevice.id == request.device_id)
    return select(*columns).select_from(one.outerjoin(SyncDevice, device))


def _binding(actor: Actor) -> ColumnElement[Any]:
    if actor.session_id is None:
        return literal(None)
    query = select(AuthSession.device_id).where(AuthSession.id == actor.session_id)
    return query.scalar_subquery()


def _device_ok(actor: Actor, request: PullRequest, row: Any) -> bool:
    """A registered, live device of this login whose health was recorded lately."""
    if row.binding is not None and row.binding != str(request.device_id):
        return False
    if row.user_id != actor.user_id or row.retired_at is not None:
        return False
    if row.last_pull_at is None or utcnow() - row.last_pull_at > HEALTH_INTERVAL:
        return False
    oldest = str(request.outbox.oldest) if request.outbox.oldest else None
    reported = (request.outbox.pending, oldest, request.protocol, request.schema)
    return (row.pending, row.oldest_pending, row.protocol, row.schema) == reported
