"""What only the filesystem blob store does: sweeping away what crashed uploads left.

The behaviour every adapter shares is in tests/integration/test_blob_store_contract.py.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from media.blobs import FilesystemBlobStore

MAX = 1024 * 1024


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Chunked:
    """A stream that hands out its bytes in the given (short) read sizes, like a socket."""

    data: bytes
    sizes: list[int] = field(default_factory=list)
    read_bytes: int = 0

    def read(self, size: int, /) -> bytes:
        if self.sizes:  # the next short read, round and round
            size = min(size, self.sizes[0])
            self.sizes.append(self.sizes.pop(0))
        chunk = self.data[self.read_bytes : self.read_bytes + size]
        self.read_bytes += len(chunk)
        return chunk


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> FilesystemBlobStore:
    return FilesystemBlobStore(tmp_path_factory.mktemp("blobs"))


def test_a_sweep_removes_old_unkept_bytes_and_crash_leftovers_only(
    store: FilesystemBlobStore,
) -> None:
    tenant = uuid.uuid4()
    kept, old, young = b"kept", b"old", b"young"
    for data in (kept, old, young):
        store.put(tenant, sha(data), Chunked(data, []), MAX)
    folder = store.path(tenant, sha(old)).parent
    leftover = folder / f".{sha(old)}.0123456789abcdef.partial"
    leftover.write_bytes(b"half an upload")
    now = time.time()
    for path in (store.path(tenant, sha(kept)), store.path(tenant, sha(old)), leftover):
        os.utime(path, (now - 7200, now - 7200))

    swept = store.sweep(tenant, {sha(kept)}, now - 3600)

    assert swept == 1
    assert store.exists(tenant, sha(kept))  # claimed
    assert not store.exists(tenant, sha(old))  # unclaimed and old
    assert store.exists(tenant, sha(young))  # unclaimed but just written: an upload in flight
    assert not leftover.exists()
    assert store.sweep(tenant, {sha(kept)}, now - 3600) == 0  # nothing left to do


def test_the_same_file_kept_again_replaces_the_copy_while_a_reader_reads_the_old_one_whole(
    store: FilesystemBlobStore, tmp_path: Path
) -> None:
    tenant = uuid.uuid4()
    data = os.urandom(3 * 64 * 1024)
    first, again = tmp_path / "first", tmp_path / "again"
    first.write_bytes(data)
    store.put_file(tenant, sha(data), first, MAX, hashed=True)

    with store.open(tenant, sha(data)) as reader:
        again.write_bytes(data)
        taken_over = again.stat().st_ino
        store.put_file(tenant, sha(data), again, MAX, hashed=True)
        assert reader.read() == data  # the old copy, still whole

    # The new file took the old one's place (fresh for the sweep), none is left behind.
    assert store.path(tenant, sha(data)).stat().st_ino == taken_over
    assert not again.exists()
    with store.open(tenant, sha(data)) as handle:
        assert handle.read() == data
