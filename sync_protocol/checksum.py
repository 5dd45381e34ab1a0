"""Per-scope checksums: how a client proves its replica equals the server's view of a scope.

A row's digest is the first 8 bytes (big-endian) of the SHA-256 of the
canonical JSON of ``{"table": ..., "row": ...}``, where ``row`` is the image
exactly as the last pull delivered it; a scope's checksum is the sum of its
rows' digests modulo 2**64, as 16 lowercase hex digits. A sum does not depend
on order, and a replica can keep it up to date row by row (:class:`ScopeTally`
subtracts the old digest and adds the new one). A mismatch at a checkpoint means
the replica diverged; the client re-pulls that scope from scratch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from sync_protocol.errors import JSONValue
from sync_protocol.wire import canonical_json

_MOD = 2**64


def row_digest(table: str, row: Mapping[str, JSONValue]) -> int:
    payload = canonical_json({"table": table, "row": dict(row)})
    return int.from_bytes(hashlib.sha256(payload).digest()[:8], "big")


def scope_checksum(rows: Iterable[tuple[str, Mapping[str, JSONValue]]]) -> str:
    """The checksum of ``(table, row)`` pairs, in any order."""
    tally = ScopeTally()
    for table, row in rows:
        tally.add(table, row)
    return tally.checksum


class ScopeTally:
    """A running checksum and row count for one scope of a replica."""

    def __init__(self) -> None:
        self.total = 0
        self.count = 0

    def add(self, table: str, row: Mapping[str, JSONValue]) -> None:
        self.total = (self.total + row_digest(table, row)) % _MOD
        self.count += 1

    def remove(self, table: str, row: Mapping[str, JSONValue]) -> None:
        self.total = (self.total - row_digest(table, row)) % _MOD
        self.count -= 1

    @property
    def checksum(self) -> str:
        return f"{self.total:016x}"
