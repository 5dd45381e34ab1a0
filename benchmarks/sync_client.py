"""The device side of the sync benchmarks: pulls and pushes over real HTTP, measured.

A full pull follows ``has_more`` page by page as an app does (the SDK's page size,
``Accept-Encoding: gzip``) and keeps the bytes as they came off the socket, so
the benchmark can report the compressed and the uncompressed size. The wrk
script for the no-op pull is written here too: wrk sends a fixed POST body.
"""

from __future__ import annotations

import gzip
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from sync_protocol.checksum import scope_checksum
from sync_protocol.entities import TimeEntryKind
from sync_protocol.hlc import HLC, system_ms
from sync_protocol.messages import MAX_PULL_LIMIT, Mutation, OutboxReport, PullRequest, PushRequest
from sync_protocol.mutations import (
    AddNote,
    AddTimeEntry,
    MutationArgs,
    RecordPart,
    RecordReading,
    TransitionWorkOrder,
)
from sync_protocol.wire import parse_timestamp
from sync_protocol.workorder_status import Action, Status

JSONDict = dict[str, Any]


class SyncFailed(RuntimeError):
    """The server answered a sync request wrongly."""


@dataclass
class FullPull:
    """What one pull from scratch delivered and cost, seen from the client."""

    seconds: float = 0.0
    pages: int = 0
    wire_bytes: int = 0  # response bodies as sent (gzip)
    body_bytes: int = 0  # the same, decompressed
    changes: int = 0
    rows: dict[str, list[tuple[str, JSONDict]]] = field(default_factory=dict)  # scope -> rows
    cursors: dict[str, str | None] = field(default_factory=dict)
    checkpoint: JSONDict = field(default_factory=dict)

    def verify(self) -> None:
        """The checkpoint's counts and checksums must match the rows delivered."""
        for scope, count in self.checkpoint["counts"].items():
            rows = self.rows.get(scope, [])
            if count != len(rows) or self.checkpoint["checksums"][scope] != scope_checksum(rows):
                raise SyncFailed(f"{scope}: checkpoint disagrees with the {len(rows)} rows pulled")


class SyncHttp:
    """One technician's token against one server, with a plain ``requests`` session."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept-Encoding": "gzip",
        }
        self.http = requests.Session()
        self.http.trust_env = False

    def close(self) -> None:
        self.http.close()

    def post(self, path: str, body: bytes) -> tuple[int, bytes, bytes]:
        """Status, the body as sent on the wire and the body decompressed."""
        with self.http.post(
            self.base_url + path, data=body, headers=self.headers, stream=True, timeout=120
        ) as response:
            wire = response.raw.read(decode_content=False)
            encoding = response.headers.get("Content-Encoding")
            return response.status_code, wire, gzip.decompress(wire) if encoding == "gzip" else wire

    def full_pull(self, device_id: uuid.UUID, scopes: list[str]) -> FullPull:
        """Every page of ``scopes`` from scratch; the clock covers the whole exchange."""
        result = FullPull(cursors=dict.fromkeys(scopes))
        started = time.perf_counter()
        while True:
            body = pull_body(device_id, result.cursors)
            status, wire, plain = self.post("/v1/sync/pull", body)
            if status != 200:
                raise SyncFailed(f"pull answered {status}: {plain[:500]!r}")
            page = json.loads(plain)
            result.pages += 1
            result.wire_bytes += len(wire)
            result.body_bytes += len(plain)
            result.changes += len(page["changes"])
            for change in page["changes"]:
                if change["op"] == "upsert":
                    result.rows.setdefault(change["scope"], []).append(
                        (change["table"], change["row"])
                    )
            result.cursors = page["cursors"]
            if not page["has_more"]:
                result.checkpoint = page["checkpoint"]
                break
        result.seconds = time.perf_counter() - started
        return result


def pull_body(device_id: uuid.UUID, cursors: dict[str, str | None]) -> bytes:
    # Pages as the reference SDK asks for them (client_sdk: the protocol's maximum).
    request = PullRequest(device_id, cursors, MAX_PULL_LIMIT, device_time_ms=system_ms())
    return json.dumps(request.to_json()).encode()


def wrk_post_script(path: Path, body: bytes) -> Path:
    """A wrk Lua script that POSTs ``body`` as JSON (and accepts gzip, as devices do)."""
    text = body.decode()
    if "]==]" in text:
        raise ValueError("the body cannot be quoted as a Lua long string")
    path.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = [==[{text}]==]\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        'wrk.headers["Accept-Encoding"] = "gzip"\n',
        encoding="utf-8",
    )
    return path


def push_batch(
    device_id: uuid.UUID, specs: list[JSONDict], accept: list[uuid.UUID]
) -> list[Mutation]:
    """One batch: an ``accept`` transition per order in ``accept``, then the evidence specs."""
    args: list[MutationArgs] = [
        TransitionWorkOrder(order_id, Action.ACCEPT, Status.ASSIGNED) for order_id in accept
    ]
    args += [_evidence(spec) for spec in specs]
    wall = system_ms()
    return [
        Mutation(seq, HLC(wall, seq, str(device_id)), a.name.value, a.to_json())
        for seq, a in enumerate(args, start=1)
    ]


def push_body(device_id: uuid.UUID, mutations: list[Mutation]) -> bytes:
    request = PushRequest(
        device_id,
        tuple(mutations),
        device_time_ms=system_ms(),
        outbox=OutboxReport(len(mutations), mutations[0].hlc),
    )
    return json.dumps(request.to_json(), ensure_ascii=False).encode()


def _evidence(spec: JSONDict) -> MutationArgs:
    order_id, row_id = uuid.UUID(spec["work_order_id"]), uuid.UUID(spec["id"])
    kind = spec["kind"]
    if kind == "note":
        return AddNote(row_id, order_id, spec["body"])
    if kind == "part":
        return RecordPart(row_id, order_id, spec["description"], spec["quantity"], spec["unit"])
    if kind == "reading":
        taken = parse_timestamp(spec["taken_at"])
        return RecordReading(row_id, order_id, spec["metric"], spec["value"], spec["unit"], taken)
    return AddTimeEntry(
        row_id,
        order_id,
        TimeEntryKind(spec["activity"]),
        parse_timestamp(spec["started_at"]),
        parse_timestamp(spec["ended_at"]),
        spec["note"],
    )
