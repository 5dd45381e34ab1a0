"""WatermelonDB ``pullChanges`` on top of the change log (PROTOCOL.md § 15).

One read snapshot gives the rows, the tombstones and the tenant's high-water
mark, so the answer is consistent (contract rule 5). ``timestamp`` is one past
the high-water mark: the first change number the app has *not* seen.
WatermelonDB refuses a timestamp of 0, which is a new tenant's mark, so the
mark itself cannot be sent; the next pull reads changes numbered at or above
the ``lastPulledAt`` it hands back.

A first sync (``lastPulledAt`` null or 0) gets every row of the device's
scopes; later pulls get the rows changed since, and the IDs of rows deleted or
gone from the scope, and of records the app pushed that the server refused
(:mod:`api.sync.watermelon.ghosts`). Every non-deleted row is sent as
``updated``: apps MUST pass ``sendCreatedAsUpdated: true``, under which
WatermelonDB creates unknown rows and logs an error for any row sent as
``created``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.db import UnitOfWorkFactory
from api.sync import queries
from api.sync.devices import record_app_pull, retired
from api.sync.rows import group_by_table, materialise
from api.sync.services import read_snapshot, scope_members
from api.sync.syncables import Row
from api.sync.watermelon.apply import device_of
from api.sync.watermelon.ghosts import refused_records
from api.sync.watermelon.params import Migration, PullParams
from api.sync.watermelon.records import (
    COLUMNS,
    RawRecord,
    link_ids,
    link_records,
    pulled_tables,
    raw_record,
)
from api.technicians.models import Technician
from sync_protocol.entities import Table
from sync_protocol.errors import JSONValue, ProtocolError
from sync_protocol.records import ResetRequired
from sync_protocol.scopes import TAXONOMY, technician_scope
from sync_protocol.versions import (
    MIN_SCHEMA_VERSION,
    PROTOCOL_VERSION,
    Versions,
    check_versions,
)

_UNLIMITED = 2**53  # the contract has no pages: a pull returns every change


@dataclass
class ChangeSet:
    """Rows to upsert and IDs to delete, per table: the ``changes`` of the contract."""

    updated: dict[Table, dict[str, RawRecord]] = field(default_factory=dict)
    deleted: dict[Table, set[str]] = field(default_factory=dict)

    def put(self, table: Table, records: Iterable[RawRecord]) -> None:
        self.updated.setdefault(table, {}).update((str(r["id"]), r) for r in records)

    def delete(self, table: Table, ids: Iterable[str]) -> None:
        self.deleted.setdefault(table, set()).update(ids)

    def to_json(self) -> dict[str, JSONValue]:
        changes: dict[str, JSONValue] = {}
        for table in pulled_tables():
            rows = self.updated.get(table, {})
            gone = self.deleted.get(table, set()) - rows.keys()  # IDs never repeat (rule 2)
            entry: dict[str, JSONValue] = {
                "created": [],
                "updated": [*(rows[i] for i in sorted(rows))],
                "deleted": [*sorted(gone)],
            }
            changes[table.value] = entry
        return changes


@dataclass(frozen=True)
class PullResult:
    changes: ChangeSet
    timestamp: int

    def to_json(self) -> dict[str, JSONValue]:
        return {"changes": self.changes.to_json(), "timestamp": self.timestamp}


def pull(uow: UnitOfWorkFactory, actor: Actor, params: PullParams) -> PullResult | ResetRequired:
    """Everything the app lacks since ``lastPulledAt``, or why it must re-prime."""
    reset = check_replica_schema(params.replica_schema, pushing=False)
    if reset is not None:
        return reset
    with read_snapshot(uow) as session:
        device_id = device_of(session, actor)
        scopes = device_scopes(session, actor, params.technician_id)
        top = queries.high_water(session, actor.tenant_id)
        seen = max(params.last_pulled_at - 1, 0)  # the app has every change up to this one
        if seen > top:
            return ResetRequired(
                "sync.server_restored",
                f"lastPulledAt {params.last_pulled_at} is past this server's change {top}",
                push_first=True,
                min_schema=MIN_SCHEMA_VERSION,
            )
        changes = ChangeSet()
        if params.last_pulled_at == 0:
            _everything(session, actor.tenant_id, scopes, changes)
        else:
            _since(session, actor.tenant_id, scopes, seen, changes)
            if params.migration is not None:
                _migrated(session, actor.tenant_id, scopes, params.migration, changes)
        result = PullResult(changes, top + 1)
    if not record_app_pull(uow, actor, device_id):
        return retired()
    return result


def check_replica_schema(replica_schema: int, *, pushing: bool) -> ResetRequired | None:
    """§ 2's version decision for the app's replica schema (``?replica_schema=``)."""
    try:
        return check_versions(Versions(PROTOCOL_VERSION, replica_schema), pushing=pushing)
    except ProtocolError as error:
        if error.field != "schema":
            raise
        raise ProtocolError(error.code, error.detail, "replica_schema", error.extra) from None


def device_scopes(session: Session, actor: Actor, technician_id: uuid.UUID | None) -> list[str]:
    """The scopes the caller replicates through WatermelonDB.

    A technician: their own scope and the taxonomy (naming anyone else is
    ``sync.scope_forbidden``). Office roles do not replicate, but may pull what a
    technician of their tenant would (``?technician_id=``), or the taxonomy alone.
    """
    if technician_id is None:
        technician_id = None if actor.is_office else actor.technician_id
    elif actor.is_office:
        known = session.scalar(
            select(Technician.id).where(
                Technician.tenant_id == actor.tenant_id, Technician.id == technician_id
            )
        )
        if known is None:
            raise ProtocolError("sync.scope_forbidden", "No such technician", "technician_id")
    elif technician_id != actor.technician_id:
        raise ProtocolError("sync.scope_forbidden", "Not your scope", "technician_id")
    scopes = [str(TAXONOMY)]
    if technician_id is not None:
        scopes.insert(0, str(technician_scope(technician_id)))
    return scopes


def _everything(
    session: Session, tenant_id: uuid.UUID, scopes: list[str], changes: ChangeSet
) -> None:
    for scope in scopes:
        for table, ids in group_by_table(scope_members(session, tenant_id, scope)).items():
            _put_rows(changes, table, materialise(session, tenant_id, table, ids))


def _since(
    session: Session, tenant_id: uuid.UUID, scopes: list[str], seen: int, changes: ChangeSet
) -> None:
    log = queries.changes_after(session, tenant_id, dict.fromkeys(scopes, seen), _UNLIMITED)
    latest = {(c.scope, Table(c.table_name), c.row_id): c for c in log}  # last one wins
    members = {scope: scope_members(session, tenant_id, scope) for scope in scopes}
    upserts: set[tuple[Table, uuid.UUID]] = set()
    for (scope, table, row_id), change in latest.items():
        if change.op == "tombstone":
            changes.delete(table, [str(row_id)])
        elif (table, row_id) in members[scope]:
            upserts.add((table, row_id))
    images: dict[Table, dict[uuid.UUID, Row]] = {}
    for table, ids in group_by_table(upserts).items():
        images[table] = materialise(session, tenant_id, table, ids)
        _put_rows(changes, table, images[table])
    # Removed asset links: every link the app may hold for a changed order is
    # between that order and an asset it holds now or is told to delete now
    # (an asset leaves the scope in the same transaction as the link that
    # brought it), minus the links the order still has.
    assets = {r for s in scopes for t, r in members[s] if t is Table.ASSETS}
    assets |= {uuid.UUID(i) for i in changes.deleted.get(Table.ASSETS, set())}
    orders = {k[2] for k in latest if k[1] is Table.WORK_ORDERS}
    changes.delete(Table.WORK_ORDER_ASSETS, link_ids(orders, assets))
    held = set().union(*members.values())
    _delete_refused(changes, images.get(Table.QUARANTINE, {}).values(), held)


def _delete_refused(
    changes: ChangeSet, quarantined: Iterable[Row], held: set[tuple[Table, uuid.UUID]]
) -> None:
    """Records the server refused and does not hold: the app must delete them (ghosts)."""
    for table, record_id in refused_records(quarantined):
        if table in COLUMNS and (table, _as_uuid(record_id)) not in held:
            changes.delete(table, [record_id])


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None  # a non-UUID ID (WatermelonDB's default generator) is never held


def _migrated(
    session: Session,
    tenant_id: uuid.UUID,
    scopes: list[str],
    migration: Migration,
    changes: ChangeSet,
) -> None:
    """Rows of tables (or with columns) the app's local migration added: all of them.

    The contract asks for rows whose new columns are not at their default; we
    send every row of such a table, a superset that costs one materialisation.
    Names outside the whitelist are ignored (contract rule 6: whitelist them).
    """
    named = migration.tables | migration.columns.keys()
    tables = {t for t in pulled_tables() if t.value in named}
    if Table.WORK_ORDER_ASSETS in tables:
        tables.add(Table.WORK_ORDERS)
    for scope in scopes:
        for table, ids in group_by_table(scope_members(session, tenant_id, scope)).items():
            if table in tables:
                _put_rows(changes, table, materialise(session, tenant_id, table, ids))


def _put_rows(changes: ChangeSet, table: Table, images: dict[uuid.UUID, Row]) -> None:
    if table not in COLUMNS:
        return
    changes.put(table, (raw_record(table, row) for row in images.values()))
    if table is Table.WORK_ORDERS:
        for row in images.values():
            changes.put(Table.WORK_ORDER_ASSETS, link_records(row))
