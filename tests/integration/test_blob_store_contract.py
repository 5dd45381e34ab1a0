"""Every ``BlobStore`` adapter keeps bytes only under their true SHA-256, whole or not at all.

One suite, run against the filesystem adapter and against the S3 adapter talking real
HTTP to a local S3-compatible server (moto in server mode, started here).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from media.blobs import (
    CHUNK_BYTES,
    BlobMissing,
    BlobStore,
    BlobTooLarge,
    ChecksumMismatch,
    FilesystemBlobStore,
    MalformedDigest,
)
from media.s3 import S3BlobStore
from media.stores import open_blob_store
from tests.support.s3_server import S3Server, running_s3_server

MAX = 1024 * 1024
# Disk writes, fsyncs and HTTP round trips on a shared machine: no per-example deadline.
STORE_IO = settings(
    deadline=None, max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


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


class Refused(Exception):
    pass


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    with running_s3_server() as server:
        yield server


@pytest.fixture(params=["filesystem", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """A fresh store per test, built the way the app builds it (from its location)."""
    if request.param == "filesystem":
        return open_blob_store(str(tmp_path / "blobs"))
    server: S3Server = request.getfixturevalue("s3_server")
    return open_blob_store(f"s3://{server.new_bucket()}/photos", server.settings())


def kept(store: BlobStore, tenant: uuid.UUID) -> list[str]:
    """Every name the adapter holds for the tenant, temp files and objects included."""
    if isinstance(store, FilesystemBlobStore):
        return sorted(p.name for p in (store.root / str(tenant)).rglob("*") if p.is_file())
    assert isinstance(store, S3BlobStore)
    listing = store.client.list_objects_v2(Bucket=store.bucket, Prefix=store.prefix)
    names = [o["Key"] for o in listing.get("Contents", []) if f"/{tenant}/" in f"/{o['Key']}"]
    return sorted(name.rsplit("/", 1)[-1] for name in names)


@STORE_IO
@given(data=st.binary(max_size=4096), sizes=st.lists(st.integers(1, 700), max_size=5))
def test_any_bytes_put_then_open_return_the_same_bytes(
    store: BlobStore, data: bytes, sizes: list[int]
) -> None:
    tenant = uuid.uuid4()
    stored = store.put(tenant, sha(data), Chunked(data, sizes), MAX)

    assert stored.size == len(data)
    assert store.exists(tenant, sha(data))
    with store.open(tenant, sha(data)) as handle:
        assert handle.read() == data
    assert kept(store, tenant) == [sha(data)]


@STORE_IO
@given(data=st.binary(max_size=4096), other=st.binary(max_size=64))
def test_bytes_under_a_wrong_hash_leave_nothing_behind(
    store: BlobStore, data: bytes, other: bytes
) -> None:
    if other == data:
        other += b"!"
    tenant = uuid.uuid4()

    with pytest.raises(ChecksumMismatch) as raised:
        store.put(tenant, sha(other), Chunked(data), MAX)

    assert raised.value.actual == sha(data)
    assert not store.exists(tenant, sha(other))
    assert not store.exists(tenant, sha(data))
    assert kept(store, tenant) == []


def test_bytes_larger_than_one_read_round_trip_in_short_reads(store: BlobStore) -> None:
    data = bytes(range(256)) * (3 * CHUNK_BYTES // 256 + 17)
    tenant = uuid.uuid4()

    assert store.put(tenant, sha(data), Chunked(data), MAX).size == len(data)
    with store.open(tenant, sha(data)) as handle:
        assert handle.read(10) == data[:10]
        assert handle.read() == data[10:]


def test_the_limit_is_inclusive_and_one_byte_more_is_refused_without_reading_on(
    store: BlobStore,
) -> None:
    tenant = uuid.uuid4()
    exact = b"a" * 1000
    assert store.put(tenant, sha(exact), Chunked(exact), 1000).size == 1000

    endless = Endless()
    with pytest.raises(BlobTooLarge):
        store.put(tenant, sha(b"whatever"), endless, 1000)
    assert endless.served == 1001  # an endless upload costs the limit, not forever
    assert kept(store, tenant) == [sha(exact)]


def test_an_upload_that_breaks_off_keeps_nothing(store: BlobStore) -> None:
    tenant = uuid.uuid4()
    with pytest.raises(OSError, match="connection reset"):
        store.put(tenant, sha(b"x" * 20), Failing(), MAX)
    assert kept(store, tenant) == []


def test_a_check_sees_the_verified_bytes_and_its_refusal_keeps_nothing(store: BlobStore) -> None:
    tenant = uuid.uuid4()
    data = b"<svg onload=alert(1)>"
    seen: list[bytes] = []

    def refuse(handle: BinaryIO) -> None:
        seen.append(handle.read())
        raise Refused

    with pytest.raises(Refused):
        store.put(tenant, sha(data), Chunked(data), MAX, check=refuse)

    assert seen == [data]
    assert not store.exists(tenant, sha(data))
    assert kept(store, tenant) == []
    store.put(tenant, sha(data), Chunked(data), MAX, check=lambda handle: None)
    assert store.exists(tenant, sha(data))


def test_a_check_is_not_asked_about_bytes_that_fail_their_hash(store: BlobStore) -> None:
    asked: list[bool] = []
    with pytest.raises(ChecksumMismatch):
        store.put(uuid.uuid4(), sha(b"a"), Chunked(b"b"), MAX, check=lambda h: asked.append(True))
    assert asked == []


def test_putting_the_same_bytes_again_keeps_one_copy(store: BlobStore) -> None:
    tenant = uuid.uuid4()
    data = b"\xff\xd8\xff photo"
    store.put(tenant, sha(data), Chunked(data), MAX)
    store.put(tenant, sha(data), Chunked(data), MAX)

    assert kept(store, tenant) == [sha(data)]
    with store.open(tenant, sha(data)) as handle:
        assert handle.read() == data


def test_blobs_are_kept_per_tenant_and_can_be_deleted(store: BlobStore) -> None:
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    data = b"site photo"
    store.put(mine, sha(data), Chunked(data), MAX)

    assert not store.exists(theirs, sha(data))
    with pytest.raises(BlobMissing):
        store.open(theirs, sha(data))

    assert store.delete(mine, sha(data)) is True
    assert store.delete(mine, sha(data)) is False
    assert not store.exists(mine, sha(data))
    with pytest.raises(BlobMissing):
        store.open(mine, sha(data))


@pytest.mark.parametrize("name", ["../../etc/passwd", "AB" * 32, "ab" * 31, "ab" * 32 + "\n", ""])
def test_a_name_that_is_not_a_lowercase_sha256_is_refused(store: BlobStore, name: str) -> None:
    tenant = uuid.uuid4()
    with pytest.raises(MalformedDigest):
        store.put(tenant, name, Chunked(b""), MAX)
    with pytest.raises(MalformedDigest):
        store.exists(tenant, name)
    with pytest.raises(MalformedDigest):
        store.open(tenant, name)
    assert kept(store, tenant) == []


def test_a_sweep_removes_old_unkept_bytes_of_that_tenant_only(store: BlobStore) -> None:
    tenant, other = uuid.uuid4(), uuid.uuid4()
    claimed, unclaimed = b"claimed", b"unclaimed"
    for data in (claimed, unclaimed):
        store.put(tenant, sha(data), Chunked(data), MAX)
    store.put(other, sha(unclaimed), Chunked(unclaimed), MAX)

    # Everything was written before "an hour ago"? No: nothing is old enough yet.
    assert store.sweep(tenant, set(), time.time() - 3600) == 0
    assert kept(store, tenant) == sorted([sha(claimed), sha(unclaimed)])

    # A cutoff in the future makes every blob old: only the unclaimed one goes.
    assert store.sweep(tenant, {sha(claimed)}, time.time() + 5) == 1
    assert store.exists(tenant, sha(claimed))
    assert not store.exists(tenant, sha(unclaimed))
    assert store.exists(other, sha(unclaimed))  # another tenant's bytes are not touched
    assert store.sweep(tenant, {sha(claimed)}, time.time() + 5) == 0


def test_an_s3_sweep_aborts_multipart_uploads_a_crash_left(s3_server: S3Server) -> None:
    store = open_blob_store(f"s3://{s3_server.new_bucket()}", s3_server.settings())
    assert isinstance(store, S3BlobStore)
    tenant = uuid.uuid4()
    key = store.key(tenant, sha(b"half"))
    store.client.create_multipart_upload(Bucket=store.bucket, Key=key)

    store.sweep(tenant, set(), time.time() + 5)

    uploads = store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
    assert uploads == []


@pytest.mark.parametrize("location", ["s3://ab/photos", "gs://bucket/photos", "file:///tmp/x"])
def test_a_location_that_names_no_known_store_is_refused(location: str) -> None:
    with pytest.raises(ValueError, match="s3://"):
        open_blob_store(location)


def test_a_local_file_is_kept_under_its_hash_whole_and_readable(
    store: BlobStore, tmp_path: Path
) -> None:
    data = bytes(range(256)) * (CHUNK_BYTES // 64)
    staged = tmp_path / "staged"
    staged.write_bytes(data)
    tenant = uuid.uuid4()

    stored = store.put_file(tenant, sha(data), staged, MAX)

    assert stored.size == len(data)
    with store.open(tenant, sha(data)) as handle:
        assert handle.read() == data
    assert kept(store, tenant) == [sha(data)]


def test_a_refused_local_file_stays_where_it_was_and_nothing_is_kept(
    store: BlobStore, tmp_path: Path
) -> None:
    data = b"not the bytes that were announced"
    staged = tmp_path / "staged"
    staged.write_bytes(data)
    tenant = uuid.uuid4()

    def refuse(_: BinaryIO) -> None:
        raise Refused

    with pytest.raises(ChecksumMismatch):
        store.put_file(tenant, sha(b"other"), staged, MAX)
    with pytest.raises(BlobTooLarge):
        store.put_file(tenant, sha(data), staged, len(data) - 1)
    with pytest.raises(Refused):
        store.put_file(tenant, sha(data), staged, MAX, check=refuse, hashed=True)

    assert staged.read_bytes() == data
    assert kept(store, tenant) == []
    assert not store.exists(tenant, sha(data))


def test_a_local_file_the_caller_hashed_is_not_read_to_hash_it_again(
    store: BlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b"hashed while it arrived"
    staged = tmp_path / "staged"
    staged.write_bytes(data)
    tenant = uuid.uuid4()

    def no_second_hash(*_: object) -> None:
        raise AssertionError("hashed twice")

    monkeypatch.setattr(hashlib, "file_digest", no_second_hash)
    store.put_file(tenant, sha(data), staged, MAX, hashed=True)

    with store.open(tenant, sha(data)) as handle:
        assert handle.read() == data
