"""Running scope checksums, kept with the change log (PROTOCOL.md § 11.4).

A scope's checksum is the sum modulo 2**64 of its rows' digests
(:func:`sync_protocol.checksum.row_digest` of each row image), so it does not
depend on order and one row's change moves it by ``new digest - old digest``.
``sync_row_digests`` remembers each held row's digest per scope and
``sync_scope_tallies`` the scope's sum and row count. Change capture
(:mod:`api.sync.capture`) calls :func:`apply` with the entries it logs, in the
same transaction and under the tenant's counter lock: for every upsert the
row's image is read once (whatever the number of scopes holding it) and
hashed; a tombstone takes the row's digest out. A checkpoint then reads one
tally row instead of materialising and hashing the whole scope: the cost of a
new scope version is the rows it changed, not the rows it holds.

A tally equals a full recount (:func:`recount`): the images of the rows the
scope holds (the stored members; every category for ``taxonomy``) that still
exist. A scope without a tally, or whose tally was counted under another
row-image definition (:func:`fingerprint`), is recounted in full the next time
a change is logged in it, when the schema reaches head
(:func:`recount_stale`, called by :func:`api.migrations.upgrade`) and by
``fieldline sync-prime --recount``; until then a checkpoint computes it the old
way (:func:`api.sync.services.scope_rows`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select, union, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, configure_mappers

from api.db.bulk import insert_rows
from api.db.lists import among
from api.sync import queries
from api.sync.models import (
    SyncCounter,
    SyncRowDigest,
    SyncScopeChange,
    SyncScopeMember,
    SyncScopeTally,
)
from api.sync.pending import ScopeEntry
from api.sync.rows import group_by_table, materialise
from api.sync.syncables import BY_TABLE, LINKED, wire_columns
from sync_protocol.checksum import row_digest
from sync_protocol.entities import Table
from sync_protocol.scopes import Scope, ScopeKind

_MOD = 2**64
_HALF = 2**63
# Bump when what an image holds changes without a column changing (e.g. how
# wire_value writes a type): every tally is then recounted at the next upgrade.
IMAGE_REVISION = 1

Triple = tuple[str, Table, uuid.UUID]  # (scope, table, row id)


@dataclass
class Tally:
    total: int  # 0 <= total < 2**64
    count: int
    fingerprint: str

    @property
    def checksum(self) -> str:
        return f"{self.total:016x}"


@functools.cache
def fingerprint() -> str:
    """A name for the row-image definition: each table's columns and their types."""
    configure_mappers()  # foreign-key columns take their type from the referenced column
    definition = {
        table.value: [[c.name, type(c.type).__name__] for c in wire_columns(syncable)]
        + ([["asset_ids", "list"]] if table in LINKED else [])
        for table, syncable in sorted(BY_TABLE.items(), key=lambda item: item[0].value)
    }
    text = json.dumps([IMAGE_REVISION, definition], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def signed(value: int) -> int:
    """A sum modulo 2**64 as the BIGINT with the same bits."""
    return value - _MOD if value >= _HALF else value


def unsigned(value: int) -> int:
    return value % _MOD


def read(session: Session, tenant_id: uuid.UUID, scope: str) -> Tally | None:
    """The scope's tally in this snapshot, if it has a current one."""
    found = session.execute(
        select(SyncScopeTally.total, SyncScopeTally.count, SyncScopeTally.fingerprint).where(
            SyncScopeTally.tenant_id == tenant_id, SyncScopeTally.scope == scope
        )
    ).one_or_none()
    if found is None:
        return None
    total, count, mark = found
    if mark != fingerprint():
        return None
    return Tally(unsigned(total), count, mark)


def apply(
    session: Session, tenant_id: uuid.UUID, entries: Sequence[ScopeEntry], first_seq: int
) -> None:
    """Bring the tallies of the entries' scopes up to date with them.

    ``entries`` are the transaction's change-log entries, numbered from
    ``first_seq``; the caller holds the tenant's counter lock, which every writer
    of tallies takes, and has already written the scopes' members.
    """
    if not entries:
        return
    version: dict[str, int] = {}
    final: dict[Triple, str] = {}  # the last entry of a row in a scope decides
    for seq, entry in enumerate(entries, start=first_seq):
        version[entry.scope] = seq
        final[(entry.scope, entry.table, entry.row_id)] = entry.op
    tallies = _load(session, tenant_id, sorted(version))
    stale = sorted(s for s in version if s not in tallies)
    current = {key: op for key, op in final.items() if key[0] in tallies}
    if current:
        _update(session, tenant_id, current, tallies)
        for scope, tally in tallies.items():
            _write_tally(session, tenant_id, scope, version[scope], tally)
    for scope in stale:
        recount(session, tenant_id, scope, version[scope])


def _load(session: Session, tenant_id: uuid.UUID, scopes: list[str]) -> dict[str, Tally]:
    """The scopes' tallies counted under the current image definition."""
    rows = session.execute(
        select(
            SyncScopeTally.scope,
            SyncScopeTally.total,
            SyncScopeTally.count,
            SyncScopeTally.fingerprint,
        ).where(SyncScopeTally.tenant_id == tenant_id, SyncScopeTally.scope.in_(scopes))
    )
    return {
        scope: Tally(unsigned(total), count, mark)
        for scope, total, count, mark in rows
        if mark == fingerprint()
    }


def _update(
    session: Session, tenant_id: uuid.UUID, final: dict[Triple, str], tallies: dict[str, Tally]
) -> None:
    upserted = {(table, row_id) for (_, table, row_id), op in final.items() if op == "upsert"}
    digests = digests_of(session, tenant_id, upserted)
    old = _stored(session, tenant_id, sorted(tallies), {row_id for _, _, row_id in final})
    added: list[dict[str, object]] = []
    changed: list[dict[str, object]] = []
    removed: list[dict[str, object]] = []
    for key, op in final.items():
        scope, table, row_id = key
        before = old.get(key)
        after = digests.get((table, row_id)) if op == "upsert" else None
        if before == after:
            continue
        tally = tallies[scope]
        if before is not None:
            tally.total = (tally.total - before) % _MOD
            tally.count -= 1
        if after is not None:
            tally.total = (tally.total + after) % _MOD
            tally.count += 1
        values: dict[str, object] = {
            "t": tenant_id,
            "s": scope,
            "n": table.value,
            "r": row_id,
        }
        if after is not None:
            values["d"] = signed(after)
        (added if before is None else removed if after is None else changed).append(values)
    connection = session.connection()  # Core executemany, as the change log itself
    if added:
        insert_rows(
            connection,
            SyncRowDigest,
            [
                {
                    "tenant_id": v["t"],
                    "scope": v["s"],
                    "table_name": v["n"],
                    "row_id": v["r"],
                    "digest": v["d"],
                }
                for v in added
            ],
        )
    one_row = (
        (SyncRowDigest.tenant_id == bindparam("t"))
        & (SyncRowDigest.scope == bindparam("s"))
        & (SyncRowDigest.table_name == bindparam("n"))
        & (SyncRowDigest.row_id == bindparam("r"))
    )
    if changed:
        connection.execute(
            update(SyncRowDigest).where(one_row).values(digest=bindparam("d")), changed
        )
    if removed:
        connection.execute(delete(SyncRowDigest).where(one_row), removed)


def digests_of(
    session: Session, tenant_id: uuid.UUID, keys: Iterable[tuple[Table, uuid.UUID]]
) -> dict[tuple[Table, uuid.UUID], int]:
    """The digests of these rows' current images; rows that no longer exist are left out."""
    found: dict[tuple[Table, uuid.UUID], int] = {}
    for table, ids in group_by_table(keys).items():
        name = table.value
        for row_id, image in materialise(session, tenant_id, table, ids).items():
            found[(table, row_id)] = row_digest(name, image)
    return found


def _stored(
    session: Session, tenant_id: uuid.UUID, scopes: list[str], row_ids: set[uuid.UUID]
) -> dict[Triple, int]:
    found: dict[Triple, int] = {}
    ids = list(row_ids)
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        rows = session.execute(
            select(
                SyncRowDigest.scope,
                SyncRowDigest.table_name,
                SyncRowDigest.row_id,
                SyncRowDigest.digest,
            ).where(
                SyncRowDigest.tenant_id == tenant_id,
                SyncRowDigest.scope.in_(scopes),
                among(session, SyncRowDigest.row_id, chunk),
            )
        )
        for scope, table, row_id, digest in rows:
            found[(scope, Table(table), row_id)] = unsigned(digest)
    return found


def _write_tally(
    session: Session, tenant_id: uuid.UUID, scope: str, version: int, tally: Tally
) -> None:
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = {
        "version": version,
        "total": signed(tally.total),
        "count": tally.count,
        "fingerprint": fingerprint(),
    }
    statement = make(SyncScopeTally).values(tenant_id=tenant_id, scope=scope, **values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[SyncScopeTally.tenant_id, SyncScopeTally.scope], set_=values
        )
    )


def members(session: Session, tenant_id: uuid.UUID, scope: str) -> set[tuple[Table, uuid.UUID]]:
    """What a replica of ``scope`` holds once it has applied every change so far."""
    if Scope.parse(scope).kind is ScopeKind.TAXONOMY:
        return queries.taxonomy_members(session, tenant_id)
    return queries.stored_members(session, tenant_id, scope)


def recount(
    session: Session, tenant_id: uuid.UUID, scope: str, version: int | None = None
) -> Tally:
    """Count the scope's tally and digests afresh from its rows (``version``: the
    scope's last change number; read from the log if not given)."""
    digests = digests_of(session, tenant_id, members(session, tenant_id, scope))
    session.execute(
        delete(SyncRowDigest).where(
            SyncRowDigest.tenant_id == tenant_id, SyncRowDigest.scope == scope
        )
    )
    if digests:
        insert_rows(
            session.connection(),
            SyncRowDigest,
            [
                {
                    "tenant_id": tenant_id,
                    "scope": scope,
                    "table_name": table.value,
                    "row_id": row_id,
                    "digest": signed(digest),
                }
                for (table, row_id), digest in digests.items()
            ],
        )
    tally = Tally(sum(digests.values()) % _MOD, len(digests), fingerprint())
    if version is None:
        version = _last_change(session, tenant_id, scope)
    _write_tally(session, tenant_id, scope, version, tally)
    return tally


def _last_change(session: Session, tenant_id: uuid.UUID, scope: str) -> int:
    latest = session.scalar(
        select(SyncScopeChange.change_seq)
        .where(SyncScopeChange.tenant_id == tenant_id, SyncScopeChange.scope == scope)
        .order_by(SyncScopeChange.change_seq.desc())
        .limit(1)
    )
    return latest or 0


def known_scopes(
    session: Session, tenant_id: uuid.UUID | None = None
) -> set[tuple[uuid.UUID, str]]:
    """Every (tenant, scope) with members, log entries or a tally."""
    parts = [
        select(SyncScopeMember.tenant_id, SyncScopeMember.scope),
        select(SyncScopeChange.tenant_id, SyncScopeChange.scope),
        select(SyncScopeTally.tenant_id, SyncScopeTally.scope),
    ]
    if tenant_id is not None:
        parts = [p.where(p.selected_columns[0] == tenant_id) for p in parts]
    return {(t, s) for t, s in session.execute(union(*parts))}


def recount_stale(session: Session) -> int:
    """Recount every scope whose tally is missing or was counted under another image
    definition; the number recounted. The caller commits."""
    current = {
        (t, s)
        for t, s, mark in session.execute(
            select(SyncScopeTally.tenant_id, SyncScopeTally.scope, SyncScopeTally.fingerprint)
        )
        if mark == fingerprint()
    }
    stale = sorted(known_scopes(session) - current)
    locked: set[uuid.UUID] = set()
    for tenant_id, scope in stale:
        if tenant_id not in locked:  # as capture does: no write moves a tally meanwhile
            session.execute(
                select(SyncCounter.value)
                .where(SyncCounter.tenant_id == tenant_id)
                .with_for_update()
            )
            locked.add(tenant_id)
        recount(session, tenant_id, scope)
    return len(stale)
