"""The upload queue for photo bytes, independent of the outbox (PROTOCOL.md § 10).

A photo is content-addressed: :meth:`UploadQueue.add` hashes the file
(SHA-256), copies it into the device's blob folder under its hash (so the
technician may delete the original), and queues the upload, in the same
transaction as the ``attach_photo`` mutation when the caller wraps both.
:meth:`UploadQueue.run_due` asks ``HEAD /v1/sync/blobs/{sha256}`` first (the
server may already have the bytes, from this or another device) and else
``PUT``\\ s them. A failure only delays that one upload, with exponential
backoff; it never blocks the outbox, because the server accepts the mutation
before or after its bytes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from client_sdk.errors import FieldlineError, ValidationError
from client_sdk.http import FieldlineClient
from client_sdk.store import Store
from sync_protocol.hlc import system_ms

BASE_DELAY_MS = 2_000
MAX_DELAY_MS = 30 * 60_000
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Blob:
    sha256: str
    path: Path
    size: int


@dataclass(frozen=True)
class UploadResult:
    uploaded: int = 0  # PUT and stored
    present: int = 0  # the server already had them
    failed: int = 0  # will be retried later


def hash_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class UploadQueue:
    def __init__(
        self, store: Store, blob_dir: Path, *, now_ms: Callable[[], int] = system_ms
    ) -> None:
        self.store = store
        self.blob_dir = blob_dir
        self._now = now_ms

    def import_file(self, source: Path) -> Blob:
        """Copy ``source`` into the blob folder under its hash (atomically, via a rename)."""
        sha256, size = hash_file(source)
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        target = self.blob_dir / sha256
        if not target.exists():
            partial = self.blob_dir / f".{sha256}.partial"
            shutil.copyfile(source, partial)
            with partial.open("rb") as handle:
                os.fsync(handle.fileno())
            partial.replace(target)
        return Blob(sha256, target, size)

    def add(self, blob: Blob, content_type: str) -> None:
        """Queue ``blob`` (idempotent: the same bytes are uploaded once)."""
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO uploads (sha256, path, content_type, size) "
                "VALUES (?, ?, ?, ?)",
                (blob.sha256, str(blob.path), content_type, blob.size),
            )

    def pending(self) -> int:
        row = self.store.conn.execute("SELECT COUNT(*) FROM uploads WHERE done_ms IS NULL")
        return int(row.fetchone()[0])

    def run_due(self, client: FieldlineClient, *, force: bool = False) -> UploadResult:
        """Try every upload whose backoff has passed (all of them with ``force``)."""
        due = self.store.conn.execute(
            "SELECT sha256, path, content_type FROM uploads "
            "WHERE done_ms IS NULL AND (? OR next_ms <= ?) ORDER BY rowid",
            (force, self._now()),
        ).fetchall()
        uploaded = present = failed = 0
        for sha256, path, content_type in due:
            try:
                if client.blob_exists(sha256):
                    present += 1
                else:
                    client.put_blob(sha256, Path(path).read_bytes(), content_type)
                    uploaded += 1
            except (FieldlineError, OSError) as error:
                failed += 1
                self._failed(sha256, error)
                continue
            with self.store.transaction() as conn:
                conn.execute(
                    "UPDATE uploads SET done_ms = ?, last_error = NULL WHERE sha256 = ?",
                    (self._now(), sha256),
                )
        return UploadResult(uploaded, present, failed)

    def _failed(self, sha256: str, error: Exception) -> None:
        code = error.code if isinstance(error, FieldlineError) else "sdk.blob_unreadable"
        with self.store.transaction() as conn:
            (attempts,) = conn.execute(
                "SELECT attempts FROM uploads WHERE sha256 = ?", (sha256,)
            ).fetchone()
            delay = min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** min(int(attempts), 20))
            if isinstance(error, ValidationError) and error.code == "sync.checksum_mismatch":
                delay = MAX_DELAY_MS  # the local copy is damaged; do not hammer the server
            conn.execute(
                "UPDATE uploads SET attempts = attempts + 1, next_ms = ?, last_error = ? "
                "WHERE sha256 = ?",
                (self._now() + delay, f"{code}: {error}", sha256),
            )
