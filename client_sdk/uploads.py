"""The upload queue for photo bytes, independent of the outbox (PROTOCOL.md § 10).

A photo is content-addressed: :meth:`UploadQueue.add` hashes the file
(SHA-256), copies it into the device's blob folder under its hash (so the
technician may delete the original), and queues the upload, in the same
transaction as the ``attach_photo`` mutation when the caller wraps both.
:meth:`UploadQueue.run_due` asks ``HEAD /v1/sync/blobs/{sha256}`` first (the
server may already have the bytes, from this or another device) and else sends
them. A photo up to :data:`SIMPLE_PUT_MAX_BYTES` goes in one ``PUT`` (one round
trip; resending it whole after a cut costs little). A larger one goes through a
resumable tus upload (``/v1/uploads``): the upload's path is kept in the device
file, so after a cut, a crash or a restart the queue asks the server how far it got
(``HEAD``) and sends only the rest, in checksummed pieces of :data:`PIECE_BYTES`.
A failure only delays that one upload, with exponential backoff; it never blocks
the outbox, because the server accepts the mutation before or after its bytes.
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
# Up to this size a photo is PUT whole; above, it is uploaded resumably (tus).
SIMPLE_PUT_MAX_BYTES = 512 * 1024
PIECE_BYTES = 1 << 20  # one PATCH: what a cut can cost at most, and the checksummed unit


# The bytes do not hash to their name: the PUT's and the resumable upload's codes.
_DAMAGED = ("sync.checksum_mismatch", "upload.hash_mismatch")


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
                elif Path(path).stat().st_size <= SIMPLE_PUT_MAX_BYTES:
                    client.put_blob(sha256, Path(path).read_bytes(), content_type)
                    uploaded += 1
                else:
                    self._resume(client, sha256, Path(path), content_type)
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
                conn.execute("DELETE FROM tus_uploads WHERE sha256 = ?", (sha256,))
        return UploadResult(uploaded, present, failed)

    def _resume(self, client: FieldlineClient, sha256: str, path: Path, content_type: str) -> None:
        """Send what the server lacks of ``path`` through its resumable upload (made if none)."""
        size = path.stat().st_size
        row = self.store.conn.execute(
            "SELECT path FROM tus_uploads WHERE sha256 = ?", (sha256,)
        ).fetchone()
        offset = client.upload_offset(row[0]) if row else None
        if row is None or offset is None:  # none yet, or it expired on the server
            metadata = {"sha256": sha256, "filetype": content_type, "filename": path.name}
            location = client.create_upload(size, metadata)
            with self.store.transaction() as conn:
                conn.execute(
                    "INSERT OR REPLACE INTO tus_uploads (sha256, path) VALUES (?, ?)",
                    (sha256, location),
                )
            offset = 0
        else:
            location = row[0]
        with path.open("rb") as handle:
            while offset < size:
                handle.seek(offset)
                offset = client.append_upload(location, offset, handle.read(PIECE_BYTES))

    def _failed(self, sha256: str, error: Exception) -> None:
        code = error.code if isinstance(error, FieldlineError) else "sdk.blob_unreadable"
        with self.store.transaction() as conn:
            (attempts,) = conn.execute(
                "SELECT attempts FROM uploads WHERE sha256 = ?", (sha256,)
            ).fetchone()
            delay = min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** min(int(attempts), 20))
            if isinstance(error, ValidationError) and error.code in _DAMAGED:
                delay = MAX_DELAY_MS  # the local copy is damaged; do not hammer the server
                conn.execute("DELETE FROM tus_uploads WHERE sha256 = ?", (sha256,))
            conn.execute(
                "UPDATE uploads SET attempts = attempts + 1, next_ms = ?, last_error = ? "
                "WHERE sha256 = ?",
                (self._now() + delay, f"{code}: {error}", sha256),
            )
