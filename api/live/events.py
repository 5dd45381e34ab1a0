"""The change events a commit produces, and their wire form between processes.

An event names what changed, never what it now says: a kind, the row's id, its
tenant, the work order it belongs to, and a few small facts a map can use at
once (an order's status and assignee, a technician's position). Whoever shows
more re-reads it through the API, which applies the reader's permissions.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

# PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more; datagrams stay small too.
MAX_PAYLOAD_BYTES = 7000


@dataclass(frozen=True)
class LiveEvent:
    tenant_id: uuid.UUID
    kind: str  # work_order, position, conflict, evidence, visit, report, rating, ...
    id: uuid.UUID
    work_order_id: uuid.UUID | None = None
    technician_id: uuid.UUID | None = None
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> tuple[str, uuid.UUID]:
        """One event per row and kind in a transaction: the last write wins."""
        return self.kind, self.id

    def public(self) -> dict[str, Any]:
        """The body a console stream sends (the tenant is the stream's own)."""
        body: dict[str, Any] = {"kind": self.kind, "id": str(self.id)}
        if self.work_order_id is not None:
            body["work_order_id"] = str(self.work_order_id)
        if self.technician_id is not None:
            body["technician_id"] = str(self.technician_id)
        body.update(self.data)
        return body


def encode(events: Iterable[LiveEvent]) -> Iterator[bytes]:
    """JSON arrays of events, each at most :data:`MAX_PAYLOAD_BYTES` long."""
    chunk: list[bytes] = []
    size = 2
    for event in events:
        item = orjson.dumps(_wire(event))
        if len(item) + 2 > MAX_PAYLOAD_BYTES:
            continue  # cannot happen with the kinds above; never break a commit for it
        if chunk and size + len(item) + 1 > MAX_PAYLOAD_BYTES:
            yield b"[" + b",".join(chunk) + b"]"
            chunk, size = [], 2
        chunk.append(item)
        size += len(item) + 1
    if chunk:
        yield b"[" + b",".join(chunk) + b"]"


def decode(payload: bytes | str) -> list[LiveEvent]:
    """The events of one payload; what cannot be read is skipped (it came over a socket)."""
    try:
        items = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return []
    events = []
    for item in items if isinstance(items, list) else ():
        try:
            events.append(
                LiveEvent(
                    tenant_id=uuid.UUID(item["t"]),
                    kind=str(item["k"]),
                    id=uuid.UUID(item["i"]),
                    work_order_id=uuid.UUID(item["o"]) if item.get("o") else None,
                    technician_id=uuid.UUID(item["p"]) if item.get("p") else None,
                    data=dict(item.get("d") or {}),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return events


def _wire(event: LiveEvent) -> dict[str, Any]:
    wire: dict[str, Any] = {"t": str(event.tenant_id), "k": event.kind, "i": str(event.id)}
    if event.work_order_id is not None:
        wire["o"] = str(event.work_order_id)
    if event.technician_id is not None:
        wire["p"] = str(event.technician_id)
    if event.data:
        wire["d"] = event.data
    return wire
