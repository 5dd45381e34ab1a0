"""The device's one SQLite file: schema, connection settings and transactions.

Everything a device must not lose lives here, in one file per device: the
replica (server row images by scope, with their change numbers and
tombstones), the pull cursors, the outbox and the local quarantine, the upload
queue, and small facts in ``meta`` (device ID, next seq, last HLC, tokens).
WAL keeps readers (a UI) off the writer's back; ``synchronous=FULL`` makes a
commit durable before it returns, which is what lets the outbox promise that a
mutation exists once the call that made it has returned. Every multi-step
change runs in one :meth:`Store.transaction` (``BEGIN IMMEDIATE``), so the
file is consistent after a crash at any point.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPLICA_SCHEMA = 1  # the replica schema this SDK speaks (PROTOCOL.md § 2)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    scope TEXT NOT NULL, tbl TEXT NOT NULL, id TEXT NOT NULL,
    version INTEGER NOT NULL,
    row TEXT,            -- the server image as pulled, NULL for a tombstone
    tombstone TEXT,      -- deleted | left_scope
    held TEXT,           -- a left_scope row kept read-only while mutations touch it (§ 5.3)
    work_order_id TEXT,  -- the order a row belongs to (itself for work_orders)
    PRIMARY KEY (scope, tbl, id)
);
CREATE INDEX IF NOT EXISTS rows_by_order ON rows (work_order_id);
CREATE INDEX IF NOT EXISTS rows_by_table ON rows (tbl, id);
CREATE TABLE IF NOT EXISTS cursors (scope TEXT PRIMARY KEY, cursor TEXT);
CREATE TABLE IF NOT EXISTS repair_seen (
    scope TEXT NOT NULL, tbl TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (scope, tbl, id)
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY, hlc TEXT NOT NULL, name TEXT NOT NULL, args TEXT NOT NULL,
    work_order_id TEXT, created_ms INTEGER NOT NULL,
    acked_ms INTEGER,    -- NULL while pending
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (acked_ms, seq);
CREATE TABLE IF NOT EXISTS quarantine (
    seq INTEGER PRIMARY KEY, mutation TEXT NOT NULL, code TEXT NOT NULL,
    field TEXT, detail TEXT, quarantined_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS uploads (
    sha256 TEXT PRIMARY KEY, path TEXT NOT NULL, content_type TEXT NOT NULL,
    size INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_ms INTEGER NOT NULL DEFAULT 0, last_error TEXT, done_ms INTEGER
);
-- The server's resumable upload for a queued photo, while its bytes are on the way.
CREATE TABLE IF NOT EXISTS tus_uploads (sha256 TEXT PRIMARY KEY, path TEXT NOT NULL);
-- GPS fixes not yet answered by the server (client_sdk/positions.py), by fix time.
CREATE TABLE IF NOT EXISTS positions (fixed_at TEXT PRIMARY KEY, fix TEXT NOT NULL);
"""


class Store:
    """A connection to one device file. Use from one thread (open another per thread)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA busy_timeout=10000")
        self._depth = 0
        with self.transaction():
            # executescript would COMMIT the open transaction; run statements one by one.
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.conn.execute(statement)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit; nested calls join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield self.conn
            finally:
                self._depth -= 1
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.conn
        except BaseException:
            self._depth = 0
            self.conn.execute("ROLLBACK")
            raise
        self._depth = 0
        self.conn.execute("COMMIT")

    def get(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: str | None) -> None:
        if value is None:
            self.conn.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            self.conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
