"""The durable outbox: numbered, timestamped mutations that survive any crash.

A device is named by a UUIDv7 generated once and kept in the file. Each
mutation gets the next ``seq`` (1, 2, 3, … from a counter in ``meta`` that is
never reset, even when old rows are pruned) and an HLC from
:class:`sync_protocol.hlc.Clock` whose last value is stored beside it, so
neither ever goes backwards across restarts, even if the phone's clock does.
:meth:`Outbox.record` commits before it returns (PROTOCOL.md § 7.1). Receipts
settle mutations: acknowledged ones are kept 7 days (a server restored from a
backup may ask for them again, § 12), rejected ones move to the local
quarantine list (§ 7.5).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from uuid_utils.compat import uuid7

from client_sdk.errors import FieldlineError, ValidationError
from client_sdk.store import Store
from sync_protocol.errors import JSONValue, ProtocolError
from sync_protocol.hlc import HLC, Clock, PhysicalClock, system_ms
from sync_protocol.merge import Outcome
from sync_protocol.messages import Mutation, OutboxReport, Receipt
from sync_protocol.mutations import MutationArgs, parse_args

RETAIN_ACKED_MS = 7 * 86_400_000  # PROTOCOL.md § 12: re-pushable after a server restore


@dataclass(frozen=True)
class Settled:
    """What one receipt did locally; the sync loop turns these into callbacks."""

    mutation: Mutation
    receipt: Receipt

    @property
    def quarantined(self) -> bool:
        return self.receipt.status is Outcome.REJECTED


@dataclass(frozen=True)
class QuarantinedMutation:
    mutation: Mutation
    code: str
    field: str | None
    detail: str | None
    quarantined_ms: int

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "mutation": self.mutation.to_json(),
            "code": self.code,
            "field": self.field,
            "detail": self.detail,
            "quarantined_ms": self.quarantined_ms,
        }


class Outbox:
    def __init__(self, store: Store, *, physical: PhysicalClock = system_ms) -> None:
        self.store = store
        self._physical = physical
        with store.transaction():
            if store.get("device_id") is None:
                store.put("device_id", str(uuid7()))
        self.device_id = uuid.UUID(store.get("device_id"))
        self.clock = Clock(str(self.device_id), physical, max_drift_ms=None, last=self._stored())

    def record(self, args: MutationArgs) -> Mutation:
        """Validate, number, stamp and durably store one mutation; return it once committed."""
        payload = args.to_json()
        try:
            parse_args(args.name.value, payload)  # what the server would refuse, refuse now
        except ProtocolError as error:
            raise ValidationError(error.code, error.detail, problem=error.to_json()) from None
        with self.store.transaction() as conn:
            seq = int(self.store.get("next_seq") or "1")
            hlc = self._tick()
            conn.execute(
                "INSERT INTO outbox (seq, hlc, name, args, work_order_id, created_ms) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    seq,
                    str(hlc),
                    args.name.value,
                    _dump(payload),
                    str(args.work_order_id),
                    self._physical(),
                ),
            )
            self.store.put("next_seq", str(seq + 1))
        return Mutation(seq, hlc, args.name.value, payload)

    def observe(self, server_time: HLC) -> None:
        """Fold the server's time into the clock (unbounded: the server is trusted, § 3.4)."""
        with self.store.transaction():
            self._sync_clock()
            self.clock.observe(server_time)
            self.store.put("hlc", str(self.clock.last))

    def pending(self, limit: int | None = None) -> list[Mutation]:
        rows = self.store.conn.execute(
            "SELECT seq, hlc, name, args FROM outbox WHERE acked_ms IS NULL ORDER BY seq LIMIT ?",
            (limit if limit else -1,),
        )
        return [_mutation(*row) for row in rows]

    def pending_for(self, work_order_id: str) -> list[Mutation]:
        rows = self.store.conn.execute(
            "SELECT seq, hlc, name, args FROM outbox "
            "WHERE acked_ms IS NULL AND work_order_id = ? ORDER BY seq",
            (work_order_id,),
        )
        return [_mutation(*row) for row in rows]

    def report(self) -> OutboxReport:
        count, oldest = self.store.conn.execute(
            "SELECT COUNT(*), MIN(hlc) FROM outbox WHERE acked_ms IS NULL"
        ).fetchone()
        # HLC strings sort as HLCs do (§ 3.4), so MIN over text is the oldest.
        return OutboxReport(int(count), HLC.parse(oldest) if oldest else None)

    def settle(self, batch: Sequence[Mutation], receipts: Sequence[Receipt]) -> list[Settled]:
        """Apply a push's receipts; call inside the push's transaction."""
        by_seq = {m.seq: m for m in batch}
        now = self._physical()
        settled: list[Settled] = []
        for receipt in receipts:
            mutation = by_seq.get(receipt.seq)
            if mutation is None:
                continue  # a receipt for a seq we did not send in this batch: ignore it
            if receipt.status is Outcome.REJECTED:
                self._quarantine(mutation, receipt, now)
            else:
                self.store.conn.execute(
                    "UPDATE outbox SET acked_ms = ?, receipt = ? WHERE seq = ?",
                    (now, _dump(receipt.to_json()), receipt.seq),
                )
            settled.append(Settled(mutation, receipt))
        return settled

    def reopen_from(self, expected_seq: int) -> int:
        """The server lost mutations from ``expected_seq`` on (``sync.seq_gap``): make every
        retained mutation from there pending again, quarantined ones included, because seqs
        must reach the server consecutively. Raises when some are no longer retained."""
        with self.store.transaction() as conn:
            for seq, raw in conn.execute(
                "SELECT seq, mutation FROM quarantine WHERE seq >= ?", (expected_seq,)
            ).fetchall():
                m = json.loads(raw)
                conn.execute(
                    "INSERT INTO outbox (seq, hlc, name, args, work_order_id, created_ms) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        seq,
                        m["hlc"],
                        m["name"],
                        _dump(m["args"]),
                        m["args"].get("work_order_id") or m["args"].get("id"),
                        self._physical(),
                    ),
                )
                conn.execute("DELETE FROM quarantine WHERE seq = ?", (seq,))
            held = {
                s for (s,) in conn.execute("SELECT seq FROM outbox WHERE seq >= ?", (expected_seq,))
            }
            last = int(self.store.get("next_seq") or "1") - 1
            if held != set(range(expected_seq, last + 1)):
                raise FieldlineError(
                    "sdk.outbox_pruned",
                    f"The server expects seq {expected_seq}; this device no longer has it",
                )
            conn.execute(
                "UPDATE outbox SET acked_ms = NULL, receipt = NULL WHERE seq >= ?",
                (expected_seq,),
            )
        return len(held)

    def prune(self, now_ms: int | None = None) -> int:
        """Forget acknowledged mutations older than :data:`RETAIN_ACKED_MS`."""
        cutoff = (now_ms if now_ms is not None else self._physical()) - RETAIN_ACKED_MS
        with self.store.transaction() as conn:
            return conn.execute(
                "DELETE FROM outbox WHERE acked_ms IS NOT NULL AND acked_ms < ?", (cutoff,)
            ).rowcount

    def quarantined(self) -> list[QuarantinedMutation]:
        rows = self.store.conn.execute(
            "SELECT mutation, code, field, detail, quarantined_ms FROM quarantine ORDER BY seq"
        )
        return [
            QuarantinedMutation(_mutation_from(json.loads(raw)), code, field, detail, at)
            for raw, code, field, detail, at in rows
        ]

    def acknowledged(self) -> list[tuple[Mutation, Receipt]]:
        rows = self.store.conn.execute(
            "SELECT seq, hlc, name, args, receipt FROM outbox "
            "WHERE acked_ms IS NOT NULL ORDER BY seq"
        )
        return [
            (_mutation(seq, hlc, name, args), Receipt.read(json.loads(receipt), ""))
            for seq, hlc, name, args, receipt in rows
        ]

    def quarantine_pending(self, code: str, detail: str) -> int:
        """Park every pending mutation (after an export, when the server will take no pushes)."""
        with self.store.transaction():
            now = self._physical()
            moved = self.pending()
            for mutation in moved:
                receipt = Receipt(mutation.seq, Outcome.REJECTED, code=code, detail=detail)
                self._quarantine(mutation, receipt, now)
        return len(moved)

    def _quarantine(self, mutation: Mutation, receipt: Receipt, now: int) -> None:
        self.store.conn.execute(
            "INSERT OR REPLACE INTO quarantine (seq, mutation, code, field, detail, "
            "quarantined_ms) VALUES (?, ?, ?, ?, ?, ?)",
            (
                mutation.seq,
                _dump(mutation.to_json()),
                receipt.code or "sync.internal_error",
                receipt.field,
                receipt.detail,
                now,
            ),
        )
        self.store.conn.execute("DELETE FROM outbox WHERE seq = ?", (mutation.seq,))

    def _tick(self) -> HLC:
        self._sync_clock()
        hlc = self.clock.now()
        self.store.put("hlc", str(hlc))
        return hlc

    def _sync_clock(self) -> None:
        # Another process (the CLI beside a running sync loop) may have moved the
        # stored clock; never stamp below it.
        stored = self._stored()
        if stored is not None and stored > self.clock.last:
            self.clock = Clock(self.clock.node, self._physical, max_drift_ms=None, last=stored)

    def _stored(self) -> HLC | None:
        text = self.store.get("hlc")
        return HLC.parse(text) if text else None


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _mutation(seq: int, hlc: str, name: str, args: str) -> Mutation:
    return Mutation(int(seq), HLC.parse(hlc), name, json.loads(args))


def _mutation_from(value: dict[str, Any]) -> Mutation:
    return Mutation(int(value["seq"]), HLC.parse(value["hlc"]), value["name"], value["args"])
