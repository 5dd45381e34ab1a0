"""A small in-memory server that follows PROTOCOL.md, behind ``httpx.MockTransport``.

It is strict where the SDK could go wrong: requests are parsed with the
protocol's own readers, batches are checked with ``batches.plan_batch`` (gaps,
replays, reused seqs), replays get their stored receipts verbatim, refresh
tokens rotate and a reused one revokes the session, pulls are paginated by
change number and end with a checkpoint whose checksum the client must match.
Tests add faults: drop a response after processing, fail with 5xx, demand a
reset, forget everything after a "backup restore".
"""

from __future__ import annotations

import gzip
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from client_sdk.view import apply, server_view
from sync_protocol.batches import plan_batch
from sync_protocol.checksum import scope_checksum
from sync_protocol.entities import EvidenceKind, Table, TombstoneReason
from sync_protocol.errors import ProtocolError
from sync_protocol.hlc import HLC, Clock
from sync_protocol.merge import Outcome
from sync_protocol.messages import (
    Change,
    Checkpoint,
    Mutation,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    Receipt,
    RowUpsert,
    Tombstone,
)
from sync_protocol.mutations import parse_args
from sync_protocol.records import ResetRequired

TENANT = "acme"
EMAIL = "tech@acme.test"
PASSWORD = "pw"
NOW_MS = 1_741_768_200_000


@dataclass
class Stored:
    version: int
    row: dict[str, Any] | None
    reason: TombstoneReason | None = None


@dataclass
class FakeServer:
    technician_id: uuid.UUID = field(default_factory=uuid.uuid4)
    last_seq: int = 0
    digests: dict[int, str] = field(default_factory=dict)
    receipts: dict[int, Receipt] = field(default_factory=dict)
    applied: list[Mutation] = field(default_factory=list)  # every mutation that ran, in order
    rows: dict[tuple[str, str, str], Stored] = field(default_factory=dict)
    version: int = 0
    blobs: dict[str, bytes] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    refresh_token: str = ""
    access_token: str = ""
    used_refresh: set[str] = field(default_factory=set)
    revoked: bool = False
    # Faults and rules a test sets:
    verdict: Callable[[Mutation], tuple[Outcome, str | None]] | None = None
    drop_after: Callable[[str], bool] | None = None  # path -> process, then drop the answer
    fail_before: Callable[[str], int | None] | None = None  # path -> status to answer instead
    reset: ResetRequired | None = None  # answered once, to the paths below
    reset_paths: frozenset[str] = frozenset({"/v1/sync/push", "/v1/sync/pull"})
    device_ids: set[str] = field(default_factory=set)
    clock: Clock = field(default_factory=lambda: Clock("server", lambda: NOW_MS))
    _tokens: int = 0

    @property
    def scope(self) -> str:
        return f"technician:{self.technician_id}"

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # --- arranging data -----------------------------------------------------------------

    def put(self, table: Table, row: dict[str, Any], scope: str | None = None) -> dict[str, Any]:
        self.version += 1
        self.rows[(scope or self.scope, table.value, row["id"])] = Stored(self.version, dict(row))
        return row

    def tombstone(
        self, table: Table, ident: str, reason: TombstoneReason, scope: str | None = None
    ):
        self.version += 1
        self.rows[(scope or self.scope, table.value, ident)] = Stored(self.version, None, reason)

    def order(self, **fields: Any) -> dict[str, Any]:
        row = {
            "id": str(uuid.uuid4()),
            "number": f"WO-{self.version + 1:04d}",
            "title": "Boiler service",
            "status": "assigned",
            "assignee_id": str(self.technician_id),
            "resolution": None,
            "completed_at": None,
            "status_hlc": None,
            "field_hlcs": {},
            "asset_ids": [],
        }
        row.update(fields)
        return self.put(Table.WORK_ORDERS, row)

    def row(self, table: Table, ident: str) -> dict[str, Any] | None:
        stored = self.rows.get((self.scope, table.value, ident))
        return stored.row if stored else None

    def evidence(self, work_order_id: str) -> list[dict[str, Any]]:
        return [
            s.row
            for (_, table, _), s in sorted(self.rows.items())
            if s.row is not None
            and s.row.get("work_order_id") == work_order_id
            and table != Table.WORK_ORDERS.value
        ]

    # --- HTTP ---------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls.append((request.method, path))
        status = self.fail_before(path) if self.fail_before else None
        if status:
            return _problem(status, "server.unavailable" if status >= 500 else "test.refused")
        response = self._route(request, path)
        if self.drop_after and self.drop_after(path):
            raise httpx.ReadError("connection lost after the server processed it", request=request)
        return response

    def _route(self, request: httpx.Request, path: str) -> httpx.Response:
        if path == "/v1/auth/login":
            return self._login(json.loads(request.content))
        if path == "/v1/auth/refresh":
            return self._refresh(json.loads(request.content))
        if request.headers.get("Authorization") != f"Bearer {self.access_token}" or self.revoked:
            return _problem(401, "auth.invalid_token")
        if path == "/v1/me":
            return httpx.Response(200, json={"technician_id": str(self.technician_id), "name": "T"})
        if path == "/v1/sync/push":
            return self._guard(path, lambda: self._push(json.loads(request.content)))
        if path == "/v1/sync/pull":
            return self._guard(path, lambda: self._pull(json.loads(request.content), request))
        if path.startswith("/v1/sync/blobs/"):
            return self._blob(request, path.rsplit("/", 1)[1])
        return _problem(404, "http.not_found")

    def _login(self, body: dict[str, Any]) -> httpx.Response:
        if (body["tenant"], body["email"], body["password"]) != (TENANT, EMAIL, PASSWORD):
            return _problem(401, "auth.invalid_credentials")
        self.device_ids.add(body["device_id"])
        return httpx.Response(200, json=self._issue())

    def _refresh(self, body: dict[str, Any]) -> httpx.Response:
        token = body["refresh_token"]
        if token in self.used_refresh:
            self.revoked = True  # a reused refresh token revokes the session
        if self.revoked or token != self.refresh_token:
            return _problem(401, "auth.invalid_refresh_token")
        self.used_refresh.add(token)
        return httpx.Response(200, json=self._issue())

    def _issue(self) -> dict[str, Any]:
        self._tokens += 1
        self.access_token, self.refresh_token = f"a{self._tokens}", f"r{self._tokens}"
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": "Bearer",
            "expires_in": 900,
            "session_id": "00000000-0000-7000-8000-000000000001",
        }

    def _guard(self, path: str, run: Callable[[], httpx.Response]) -> httpx.Response:
        if self.reset is not None and path in self.reset_paths:
            reset, self.reset = self.reset, None
            return httpx.Response(409, json=reset.to_json())
        try:
            return run()
        except ProtocolError as error:
            status = 413 if error.code == "sync.batch_too_large" else 409
            body = {**error.to_json(), "type": "about:blank", "status": status}
            return httpx.Response(
                status, json=body, headers={"Content-Type": "application/problem+json"}
            )

    def _push(self, body: dict[str, Any]) -> httpx.Response:
        request = PushRequest.from_json(body)
        plan = plan_batch(request.mutations, self.last_seq, self.digests.get)
        receipts = [self.receipts[m.seq] for m in plan.replays]
        for mutation in plan.fresh:
            receipts.append(self._run(mutation))
            self.digests[mutation.seq] = mutation.digest()
            self.receipts[mutation.seq] = receipts[-1]
            self.last_seq = mutation.seq
        response = PushResponse(self.clock.now(), self.last_seq, tuple(receipts))
        return httpx.Response(200, json=response.to_json())

    def _run(self, mutation: Mutation) -> Receipt:
        outcome, code = self.verdict(mutation) if self.verdict else (Outcome.APPLIED, None)
        if outcome in (Outcome.APPLIED, Outcome.MERGED, Outcome.DUPLICATE):
            self.applied.append(mutation)
            self._effect(mutation)
        return Receipt(mutation.seq, outcome, mutation.hlc, code)

    def _effect(self, mutation: Mutation) -> None:
        args = parse_args(mutation.name, dict(mutation.args))
        kind = getattr(args, "kind", None)
        order_id = str(args.work_order_id)
        if isinstance(kind, EvidenceKind):
            row = {
                **mutation.args,
                "author_kind": "technician",
                "author_id": str(self.technician_id),
                "hlc": str(mutation.hlc),
                "voided_at": None,
            }
            self.put(kind.table, row)
            return
        current = self.row(Table.WORK_ORDERS, order_id)
        after = apply(server_view(order_id, current), mutation, self.technician_id).row
        if after is not None:
            self.put(Table.WORK_ORDERS, dict(after))

    def _pull(self, body: dict[str, Any], http: httpx.Request) -> httpx.Response:
        request = PullRequest.from_json(body)
        after = {s: int(c.removeprefix("c1.")) if c else 0 for s, c in request.cursors.items()}
        candidates = sorted(
            (stored.version, key)
            for key, stored in self.rows.items()
            if key[0] in after and stored.version > after[key[0]]
        )
        page, more = candidates[: request.limit], len(candidates) > request.limit
        position = page[-1][0] if more else self.version
        changes = tuple(self._change(key) for _, key in page)
        cursors = {scope: f"c1.{max(position, after[scope])}" for scope in after}
        checkpoint = None if more else self._checkpoint(cursors)
        response = PullResponse(self.clock.now(), changes, cursors, more, checkpoint)
        data = json.dumps(response.to_json()).encode()
        headers = {"Content-Type": "application/json"}
        if "gzip" in http.headers.get("Accept-Encoding", ""):
            data, headers["Content-Encoding"] = gzip.compress(data), "gzip"
        return httpx.Response(200, content=data, headers=headers)

    def _change(self, key: tuple[str, str, str]) -> Change:
        stored, (scope, table, ident) = self.rows[key], key
        if stored.row is None:
            assert stored.reason is not None
            return Tombstone(scope, Table(table), uuid.UUID(ident), stored.version, stored.reason)
        return RowUpsert(scope, Table(table), uuid.UUID(ident), stored.version, stored.row)

    def _checkpoint(self, cursors: dict[str, str]) -> Checkpoint:
        live: dict[str, list[tuple[str, dict[str, Any]]]] = {scope: [] for scope in cursors}
        for (scope, table, _), stored in self.rows.items():
            if scope in live and stored.row is not None:
                live[scope].append((table, stored.row))
        return Checkpoint(
            cursors,
            {scope: scope_checksum(rows) for scope, rows in live.items()},
            {scope: len(rows) for scope, rows in live.items()},
        )

    def _blob(self, request: httpx.Request, sha256: str) -> httpx.Response:
        if request.method == "HEAD":
            return httpx.Response(200 if sha256 in self.blobs else 404)
        if hashlib.sha256(request.content).hexdigest() != sha256:
            return _problem(422, "sync.checksum_mismatch")
        status = 200 if sha256 in self.blobs else 201
        self.blobs[sha256] = request.content
        return httpx.Response(status)

    # --- faults -------------------------------------------------------------------------

    def restore_backup(self, last_seq: int) -> None:
        """The server comes back from a backup taken when it had processed ``last_seq``."""
        self.last_seq = last_seq
        for seq in [s for s in self.digests if s > last_seq]:
            del self.digests[seq], self.receipts[seq]
        self.applied = [m for m in self.applied if m.seq <= last_seq]


def _problem(status: int, code: str, **extra: Any) -> httpx.Response:
    body = {"type": "about:blank", "title": code, "status": status, "detail": code, "code": code}
    body.update(extra)
    return httpx.Response(status, json=body, headers={"Content-Type": "application/problem+json"})


def hlc_at(ms: int, node: str = "server") -> HLC:
    return HLC(ms, 0, node)
