"""The local replica: server row images per (scope, table, id), cursors and checksums.

Pulled pages are applied atomically, each in one SQLite transaction together
with the cursors it returned, through :func:`sync_protocol.merge.apply_pulled`
(the higher change number wins; a ``deleted`` tombstone is final; a
``left_scope`` one yields to a later upsert), so a re-delivered page is
harmless and a crash between pages loses nothing. Rows hold the *server's*
images only; the device's own pending edits live in the outbox and are laid
over them when a view is read (:mod:`client_sdk.view`).

At a checkpoint each scope's checksum (:func:`sync_protocol.checksum.scope_checksum`
over the stored images) is compared with the server's; a scope that differs is
repaired (PROTOCOL.md § 11.4): pulled again from cursor ``null`` with every
delivered row recorded, then local rows the full pull did not deliver are
deleted. A row that left the scope while the device still has pending
mutations on its order is kept read-only as ``held`` (§ 5.3) until those have
receipts.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from client_sdk.store import Store
from sync_protocol.checksum import scope_checksum
from sync_protocol.entities import Table, TombstoneReason
from sync_protocol.errors import JSONValue
from sync_protocol.merge import RowState, apply_pulled
from sync_protocol.messages import Change, Checkpoint, PullResponse, RowUpsert, Tombstone


@dataclass(frozen=True)
class StoredRow:
    table: str
    id: str
    version: int
    row: dict[str, Any] | None
    held: bool = False  # left the scope; shown read-only while mutations are pending


class Replica:
    def __init__(self, store: Store) -> None:
        self.store = store

    # --- pulling ----------------------------------------------------------------------

    def cursors(self, scopes: Iterable[str]) -> dict[str, str | None]:
        stored = dict(self.store.conn.execute("SELECT scope, cursor FROM cursors").fetchall())
        return {scope: stored.get(scope) for scope in scopes}

    def apply_page(self, page: PullResponse, repairing: frozenset[str] = frozenset()) -> None:
        """Apply every change of a page and store its cursors, all or nothing."""
        with self.store.transaction() as conn:
            for change in page.changes:
                self._apply(conn, change, change.scope in repairing)
            for scope, cursor in page.cursors.items():
                conn.execute(
                    "INSERT INTO cursors (scope, cursor) VALUES (?, ?) "
                    "ON CONFLICT (scope) DO UPDATE SET cursor = excluded.cursor",
                    (scope, cursor),
                )

    def mismatched(self, checkpoint: Checkpoint) -> list[str]:
        """Scopes whose local checksum or row count differs from the checkpoint's."""
        return sorted(
            scope
            for scope, expected in checkpoint.checksums.items()
            if expected != self.checksum(scope)
            or checkpoint.counts.get(scope) != len(list(self._live(scope)))
        )

    def checksum(self, scope: str) -> str:
        return scope_checksum(self._live(scope))

    def begin_repair(self, scope: str) -> None:
        """Start a full re-pull of ``scope``: forget its cursor and what was delivered."""
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM repair_seen WHERE scope = ?", (scope,))
            conn.execute("DELETE FROM cursors WHERE scope = ?", (scope,))

    def finish_repair(self, scope: str) -> int:
        """Delete the scope's live rows the full pull did not deliver; return how many."""
        with self.store.transaction() as conn:
            deleted = conn.execute(
                "DELETE FROM rows WHERE scope = ? AND row IS NOT NULL AND NOT EXISTS ("
                " SELECT 1 FROM repair_seen s WHERE s.scope = rows.scope AND s.tbl = rows.tbl"
                " AND s.id = rows.id)",
                (scope,),
            ).rowcount
            conn.execute("DELETE FROM repair_seen WHERE scope = ?", (scope,))
        return deleted

    def drop(self, scopes: Iterable[str] | None = None) -> None:
        """Forget the replica (all scopes, or these): rows, cursors, repair state."""
        with self.store.transaction() as conn:
            if scopes is None:
                for table in ("rows", "cursors", "repair_seen"):
                    conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
                return
            for scope in scopes:
                for table in ("rows", "cursors", "repair_seen"):
                    conn.execute(f"DELETE FROM {table} WHERE scope = ?", (scope,))  # noqa: S608

    def release_held(self) -> None:
        """Drop held rows whose orders no longer have pending mutations (they have receipts)."""
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE rows SET held = NULL WHERE held IS NOT NULL AND NOT EXISTS ("
                " SELECT 1 FROM outbox o WHERE o.acked_ms IS NULL"
                " AND o.work_order_id = rows.work_order_id)"
            )

    # --- reading ----------------------------------------------------------------------

    def rows(self, table: Table | str, *, work_order_id: str | None = None) -> list[StoredRow]:
        """The visible image of every row of ``table`` (held ones included), one per ID."""
        sql = "SELECT tbl, id, version, row, held FROM rows WHERE tbl = ?"
        params: list[Any] = [str(table)]
        if work_order_id is not None:
            sql += " AND work_order_id = ?"
            params.append(work_order_id)
        found: dict[str, StoredRow] = {}
        for tbl, ident, version, row, held in self.store.conn.execute(sql, params):
            image = row if row is not None else held
            if image is None:
                continue
            stored = StoredRow(tbl, ident, version, json.loads(image), held=row is None)
            if ident not in found or found[ident].version < version:
                found[ident] = stored
        return sorted(found.values(), key=lambda r: r.id)

    def get(self, table: Table | str, ident: str) -> StoredRow | None:
        best: StoredRow | None = None
        for tbl, version, row, held in self.store.conn.execute(
            "SELECT tbl, version, row, held FROM rows WHERE tbl = ? AND id = ?",
            (str(table), ident),
        ):
            image = row if row is not None else held
            if image is not None and (best is None or best.version < version):
                best = StoredRow(tbl, ident, version, json.loads(image), held=row is None)
        return best

    def counts(self) -> dict[str, int]:
        return dict(
            self.store.conn.execute(
                "SELECT scope, COUNT(*) FROM rows WHERE row IS NOT NULL GROUP BY scope"
            ).fetchall()
        )

    # --- internals --------------------------------------------------------------------

    def _live(self, scope: str) -> Iterable[tuple[str, Mapping[str, JSONValue]]]:
        for tbl, row in self.store.conn.execute(
            "SELECT tbl, row FROM rows WHERE scope = ? AND row IS NOT NULL", (scope,)
        ).fetchall():
            yield tbl, json.loads(row)

    def _apply(self, conn: sqlite3.Connection, change: Change, repairing: bool) -> None:
        key = (change.scope, change.table.value, str(change.id))
        found = conn.execute(
            "SELECT version, row, tombstone, held, work_order_id FROM rows "
            "WHERE scope = ? AND tbl = ? AND id = ?",
            key,
        ).fetchone()
        current = _state(found)
        if repairing:
            conn.execute("INSERT OR IGNORE INTO repair_seen (scope, tbl, id) VALUES (?, ?, ?)", key)
            if current is not None and current.tombstone is not TombstoneReason.DELETED:
                current = None  # a repair takes the server's image even at an equal version
        incoming = _incoming(change)
        if current is not None and apply_pulled(current, incoming) is current:
            return
        order = _order_of(change, found[4] if found else None)
        held = None
        if isinstance(change, Tombstone) and change.reason is TombstoneReason.LEFT_SCOPE:
            # § 5.3: keep the last image read-only while this device's edits are unsynced.
            previous = found[1] if found and found[1] is not None else (found[3] if found else None)
            if previous is not None and order is not None and _has_pending(conn, order):
                held = previous
        row = _dump(dict(change.row)) if isinstance(change, RowUpsert) else None
        tombstone = change.reason.value if isinstance(change, Tombstone) else None
        conn.execute(
            "INSERT INTO rows (scope, tbl, id, version, row, tombstone, held, work_order_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope, tbl, id) DO UPDATE SET "
            "version = excluded.version, row = excluded.row, tombstone = excluded.tombstone, "
            "held = excluded.held, work_order_id = excluded.work_order_id",
            (*key, change.version, row, tombstone, held, order),
        )


def _state(found: tuple[Any, ...] | None) -> RowState | None:
    if found is None:
        return None
    version, row, tombstone, _held, _order = found
    reason = TombstoneReason(tombstone) if tombstone else None
    return RowState(int(version), json.loads(row) if row is not None else None, reason)


def _incoming(change: Change) -> RowState:
    if isinstance(change, RowUpsert):
        return RowState(change.version, change.row)
    return RowState(change.version, None, change.reason)


def _order_of(change: Change, known: str | None) -> str | None:
    if change.table is Table.WORK_ORDERS:
        return str(change.id)
    if isinstance(change, RowUpsert):
        value = change.row.get("work_order_id")
        return value if isinstance(value, str) else None
    return known


def _has_pending(conn: sqlite3.Connection, work_order_id: str) -> bool:
    found = conn.execute(
        "SELECT 1 FROM outbox WHERE acked_ms IS NULL AND work_order_id = ? LIMIT 1",
        (work_order_id,),
    ).fetchone()
    return found is not None


def _dump(value: Mapping[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
