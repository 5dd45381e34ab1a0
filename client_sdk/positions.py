"""The device's GPS buffer: fixes kept on the device until the server has them.

A phone records a fix every few seconds on a job, usually with no signal. Each
:meth:`PositionBuffer.record` is one row in the device file (durable before it
returns); :meth:`PositionBuffer.flush` sends them oldest first in batches of up
to :data:`BATCH` to ``POST /v1/sync/positions`` (PROTOCOL.md § 10.1) and deletes
a batch's rows once the server has answered it: kept, already kept and refused
fixes are all final (a refused fix is refused again if resent). A failed request
deletes nothing, and the same fixes go again next time: the server keeps each
fix once per (device, fix time), so a resend after a lost answer is harmless.
Positions never wait on the outbox, nor the outbox on them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from client_sdk.http import FieldlineClient
from client_sdk.store import Store

BATCH = 1000  # the server's limit per request


@dataclass(frozen=True)
class PositionResult:
    sent: int = 0
    kept: int = 0
    duplicates: int = 0
    refused: int = 0  # by code, see the server's answer; dropped on the device


class PositionBuffer:
    def __init__(self, store: Store) -> None:
        self.store = store

    def record(
        self,
        lat: float,
        lon: float,
        *,
        fixed_at: datetime | None = None,
        accuracy_m: float | None = None,
        speed_mps: float | None = None,
        heading_deg: float | None = None,
        altitude_m: float | None = None,
    ) -> None:
        """Keep one fix (``fixed_at`` defaults to now); a second fix at the same
        time is the same fix and is ignored."""
        at = (fixed_at or datetime.now(UTC)).astimezone(UTC)
        stamp = at.isoformat(timespec="microseconds").replace("+00:00", "Z")
        fix = {
            "fixed_at": stamp,
            "lat": lat,
            "lon": lon,
            "accuracy_m": accuracy_m,
            "speed_mps": speed_mps,
            "heading_deg": heading_deg,
            "altitude_m": altitude_m,
        }
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO positions (fixed_at, fix) VALUES (?, ?)",
                (stamp, orjson.dumps({k: v for k, v in fix.items() if v is not None}).decode()),
            )

    def pending(self) -> int:
        (count,) = self.store.conn.execute("SELECT COUNT(*) FROM positions").fetchone()
        return int(count)

    def flush(self, client: FieldlineClient, device_id: uuid.UUID) -> PositionResult:
        """Send every buffered fix; errors propagate (the rows stay for next time)."""
        sent = kept = duplicates = refused = 0
        while rows := self.store.conn.execute(
            "SELECT fixed_at, fix FROM positions ORDER BY fixed_at LIMIT ?", (BATCH,)
        ).fetchall():
            answer = client.send_positions(device_id, [orjson.loads(fix) for _, fix in rows])
            with self.store.transaction() as conn:
                conn.executemany(
                    "DELETE FROM positions WHERE fixed_at = ?", [(stamp,) for stamp, _ in rows]
                )
            sent += len(rows)
            kept += int(answer["accepted"])
            duplicates += int(answer["duplicates"])
            refused += len(answer["rejected"])
        return PositionResult(sent, kept, duplicates, refused)
