"""A minimal replica for pull tests: sends pull requests and applies pages like a device would."""

from __future__ import annotations

import gzip
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from uuid_utils.compat import uuid7

from sync_protocol.checksum import scope_checksum
from sync_protocol.entities import TombstoneReason
from sync_protocol.messages import Checkpoint, PullRequest, PullResponse, RowUpsert
from tests.support.api_client import ApiClient

DEVICE = uuid.UUID("01958f3a-7c00-7a1e-9c1a-3f5e2b7d4c01")


def pull_body(
    cursors: dict[str, str | None],
    limit: int = 500,
    *,
    device_id: uuid.UUID | None = None,
    **override: Any,
) -> dict[str, Any]:
    """A pull request; a fresh device unless ``device_id`` (devices belong to one login)."""
    body = PullRequest(device_id or uuid7(), cursors, limit).to_json()
    body.update(override)
    return body


def read_body(response: Any) -> Any:
    data = response.get_data()
    if response.headers.get("Content-Encoding") == "gzip":
        data = gzip.decompress(data)
    return json.loads(data)


@dataclass
class Replica:
    """One device's copy of some scopes: rows by (scope, table, id), and where each scope is."""

    client: ApiClient
    cursors: dict[str, str | None]
    device_id: uuid.UUID = field(default_factory=uuid7)
    rows: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    versions: dict[tuple[str, str, str], int] = field(default_factory=dict)
    tombstones: list[tuple[str, str, str, TombstoneReason]] = field(default_factory=list)
    received: list[int] = field(default_factory=list)  # every change number, in arrival order
    checkpoint: Checkpoint | None = None
    pages: int = 0

    def pull_page(self, limit: int = 500) -> PullResponse:
        response = self.client.post(
            "/v1/sync/pull", json=pull_body(dict(self.cursors), limit, device_id=self.device_id)
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        page = PullResponse.from_json(read_body(response))
        for change in page.changes:
            key = (change.scope, change.table.value, str(change.id))
            self.received.append(change.version)
            if self.versions.get(key, 0) >= change.version:
                continue
            self.versions[key] = change.version
            if isinstance(change, RowUpsert):
                self.rows[key] = dict(change.row)
            else:
                self.rows.pop(key, None)
                self.tombstones.append((*key, change.reason))
        self.cursors.update(page.cursors)
        self.checkpoint = page.checkpoint
        self.pages += 1
        return page

    def sync(self, limit: int = 500) -> PullResponse:
        """Pull pages until the checkpoint."""
        for _ in range(10_000):
            page = self.pull_page(limit)
            if not page.has_more:
                return page
        raise AssertionError("pull never ended")

    def ids(self, scope: str) -> set[tuple[str, str]]:
        return {(table, row_id) for s, table, row_id in self.rows if s == scope}

    def checksum(self, scope: str) -> str:
        return scope_checksum((t, row) for (s, t, _), row in self.rows.items() if s == scope)
