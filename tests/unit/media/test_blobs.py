"""The filesystem blob store keeps bytes only under their true SHA-256, whole or not at all."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from media.blobs import (
    CHUNK_BYTES,
    BlobMissing,
    BlobTooLarge,
    ChecksumMismatch,
    FilesystemBlobStore,
    MalformedDigest,
)

MAX = 1024 * 1024
# Disk writes and fsyncs on a shared machine: no per-example deadline.
FILE_IO = settings(deadline=None, max_examples=60)


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


@dataclass
class Endless:
    """Zeros forever; counts how much was asked of it."""

    served: int = 0

    def read(self, size: int, /) -> bytes:
        self.served += size
        return b"\0" * size


@dataclass
class Failing:
    """Some bytes, then the client goes away."""

    sent: bool = False

    def read(self, size: int, /) -> bytes:
        if self.sent:
            raise OSError("connection reset")
        self.sent = True
        return b"x" * min(size, 10)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> FilesystemBlobStore:
    return FilesystemBlobStore(tmp_path_factory.mktemp("blobs"))


def files(root: Path, tenant_id: uuid.UUID) -> Iterator[Path]:
    return (p for p in (root / str(tenant_id)).rglob("*") if p.is_file())


@FILE_IO
@given(data=st.binary(max_size=4096), sizes=st.lists(st.integers(1, 700), max_size=5))
def test_any_bytes_put_then_open_return_the_same_bytes(
    store: FilesystemBlobStore, data: bytes, sizes: list[int]
) -> None:
    tenant = uuid.uuid4()
    stored = store.put(tenant, sha(data), Chunked(data, sizes), MAX)

    assert stored.size == len(data)
    assert store.exists(tenant, sha(data))
    with store.open(tenant, sha(data)) as handle:
        assert handle.read() == data
    assert [p.name for p in files(store.root, tenant)] == [sha(data)]


@FILE_IO
@given(data=st.binary(max_size=4096), other=st.binary(max_size=64))
def test_bytes_under_a_wrong_hash_leave_nothing_behind(
    store: FilesystemBlobStore, data: bytes, other: bytes
) -> None:
    if other == data:
        other += b"!"
    tenant = uuid.uuid4()

    with pytest.raises(ChecksumMismatch) as raised:
        store.put(tenant, sha(other), Chunked(data), MAX)

    assert raised.value.actual == sha(data)
    assert not store.exists(tenant, sha(other))
    assert not store.exists(tenant, sha(data))
    assert list(files(store.root, tenant)) == []


def test_bytes_larger_than_one_read_round_trip(store: FilesystemBlobStore) -> None:
    data = bytes(range(256)) * (3 * CHUNK_BYTES // 256 + 17)
    tenant = uuid.uuid4()

    assert store.put(tenant, sha(data), Chunked(data), MAX).size == len(data)
    with store.open(tenant, sha(data)) as handle:
        assert handle.read() == data


def test_the_limit_is_inclusive_and_one_byte_more_is_refused_without_reading_on(
    store: FilesystemBlobStore,
) -> None:
    tenant = uuid.uuid4()
    exact = b"a" * 1000
    assert store.put(tenant, sha(exact), Chunked(exact), 1000).size == 1000

    endless = Endless()
    with pytest.raises(BlobTooLarge):
        store.put(tenant, sha(b"whatever"), endless, 1000)
    assert endless.served == 1001  # an endless upload costs the limit, not forever
    assert [p.name for p in files(store.root, tenant)] == [sha(exact)]


def test_an_upload_that_breaks_off_keeps_nothing(store: FilesystemBlobStore) -> None:
    tenant = uuid.uuid4()
    with pytest.raises(OSError, match="connection reset"):
        store.put(tenant, sha(b"x" * 20), Failing(), MAX)
    assert list(files(store.root, tenant)) == []


def test_putting_the_same_bytes_again_keeps_one_copy(store: FilesystemBlobStore) -> None:
    tenant = uuid.uuid4()
    data = b"\xff\xd8\xff photo"
    store.put(tenant, sha(data), Chunked(data), MAX)
    store.put(tenant, sha(data), Chunked(data), MAX)

    assert [p.name for p in files(store.root, tenant)] == [sha(data)]
    with store.open(tenant, sha(data)) as handle:
        assert handle.read() == data


def test_blobs_are_kept_per_tenant_and_can_be_deleted(store: FilesystemBlobStore) -> None:
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    data = b"site photo"
    store.put(mine, sha(data), Chunked(data), MAX)

    assert not store.exists(theirs, sha(data))
    with pytest.raises(BlobMissing):
        store.open(theirs, sha(data))

    assert store.delete(mine, sha(data)) is True
    assert store.delete(mine, sha(data)) is False
    assert not store.exists(mine, sha(data))


@pytest.mark.parametrize("name", ["../../etc/passwd", "AB" * 32, "ab" * 31, "ab" * 32 + "\n", ""])
def test_a_name_that_is_not_a_lowercase_sha256_is_refused(
    store: FilesystemBlobStore, name: str
) -> None:
    tenant = uuid.uuid4()
    with pytest.raises(MalformedDigest):
        store.put(tenant, name, Chunked(b""), MAX)
    with pytest.raises(MalformedDigest):
        store.exists(tenant, name)
    assert not (store.root / str(tenant)).exists()


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
