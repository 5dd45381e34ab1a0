"""Content-addressed blob storage: the ``BlobStore`` port and its filesystem adapter.

Bytes are named by the SHA-256 of their content (PROTOCOL.md § 10) and kept per
tenant. :meth:`BlobStore.put` hashes while it writes and keeps the bytes only if
they hash to the name they were sent under, so a truncated or corrupted upload
never becomes visible: readers see a whole, verified blob or nothing. Which
blobs a tenant *has* is the database's business (``sync_blobs``); a store only
holds bytes, and an orphan file (bytes whose row never committed) is harmless,
because the next ``put`` of the same hash simply replaces it.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Set
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK_BYTES = 64 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}", re.ASCII)


class ByteSource(Protocol):
    """Anything bytes can be read from in chunks (a file, a WSGI input stream)."""

    def read(self, size: int, /) -> bytes: ...


BlobCheck = Callable[[BinaryIO], None]
"""Judges verified bytes (a readable file at offset 0) before they become visible;
whatever it raises is raised by ``put``, and nothing is kept."""


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int


class BlobError(Exception):
    """Base of the store's refusals; nothing is kept when one is raised."""


class MalformedDigest(BlobError, ValueError):
    """The name is not 64 lowercase hex digits (it would not be a safe file name either)."""


class ChecksumMismatch(BlobError):
    """The bytes do not hash to the SHA-256 they were sent under."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"expected SHA-256 {expected}, the bytes hash to {actual}")
        self.expected = expected
        self.actual = actual


class BlobTooLarge(BlobError):
    """More bytes arrived than the caller allows."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"the blob is over {max_bytes} bytes")
        self.max_bytes = max_bytes


class BlobMissing(BlobError, LookupError):
    """No bytes are stored under this name for this tenant."""


class BlobStore(Protocol):
    """Where a tenant's bytes live, by SHA-256: :class:`FilesystemBlobStore` or
    :class:`media.s3.S3BlobStore`, chosen by :func:`media.stores.open_blob_store`.
    Both pass one contract test suite (tests/integration/test_blob_store_contract.py)."""

    def put(
        self,
        tenant_id: uuid.UUID,
        sha256: str,
        stream: ByteSource,
        max_bytes: int,
        check: BlobCheck | None = None,
    ) -> StoredBlob:
        """Store ``stream`` if it hashes to ``sha256``, is at most ``max_bytes`` long and
        ``check`` (e.g. image validation) accepts it; otherwise raise and keep nothing.

        The body is streamed (held on local disk, never whole in memory) and only
        becomes visible to ``exists``/``open`` once it has passed every test.
        """
        ...

    def put_file(
        self,
        tenant_id: uuid.UUID,
        sha256: str,
        path: Path,
        max_bytes: int,
        check: BlobCheck | None = None,
        *,
        hashed: bool = False,
    ) -> StoredBlob:
        """Store the local file at ``path`` as :meth:`put` stores a stream, without copying
        it where the store can help it: the filesystem adapter renames the file into place
        (``path`` is then gone), the S3 adapter uploads it without spooling a copy.

        ``hashed``: the caller hashed the bytes as they arrived (a tus upload) and they
        hash to ``sha256``, so they are not read a second time to hash them. Refused
        (too large, another hash, ``check``), the file stays where it was.
        """
        ...

    def exists(self, tenant_id: uuid.UUID, sha256: str) -> bool: ...

    def open(self, tenant_id: uuid.UUID, sha256: str) -> BinaryIO:
        """The stored bytes, for reading; :class:`BlobMissing` if there are none."""
        ...

    def delete(self, tenant_id: uuid.UUID, sha256: str) -> bool:
        """Remove the bytes; False if there were none."""
        ...

    def sweep(self, tenant_id: uuid.UUID, keep: Set[str], older_than: float) -> int:
        """Remove the tenant's bytes not in ``keep`` and untouched since ``older_than``."""
        ...


def check_digest(sha256: str) -> str:
    """``sha256`` if it is 64 lowercase hex digits, else :class:`MalformedDigest`."""
    if _SHA256.fullmatch(sha256) is None:
        raise MalformedDigest("a SHA-256 is 64 lowercase hex digits")
    return sha256


class FilesystemBlobStore:
    """Blobs as files at ``<root>/<tenant_id>/<sha[:2]>/<sha>``.

    A ``put`` writes a private temp file beside the target, fsyncs it and renames
    it into place: the rename is atomic, so concurrent puts of the same bytes
    (identical content) and readers never see a half-written blob. Temp files are
    named ``.<sha>.<random>.partial`` so a sweeper can recognise what a crash left.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, tenant_id: uuid.UUID, sha256: str) -> Path:
        check_digest(sha256)
        return self.root / str(tenant_id) / sha256[:2] / sha256

    def put(
        self,
        tenant_id: uuid.UUID,
        sha256: str,
        stream: ByteSource,
        max_bytes: int,
        check: BlobCheck | None = None,
    ) -> StoredBlob:
        target = self.path(tenant_id, sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{sha256}.{secrets.token_hex(8)}.partial")
        try:
            size = _write_verified(temp, sha256, stream, max_bytes)
            if check is not None:
                with temp.open("rb") as written:
                    check(written)
            _rename_into_place(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return StoredBlob(sha256, size)

    def put_file(
        self,
        tenant_id: uuid.UUID,
        sha256: str,
        path: Path,
        max_bytes: int,
        check: BlobCheck | None = None,
        *,
        hashed: bool = False,
    ) -> StoredBlob:
        """See :meth:`BlobStore.put_file`: judged where it lies, then renamed into place
        (the caller fsynced it); a copy through :meth:`put` only across file systems."""
        target = self.path(tenant_id, sha256)
        size = verify_file(path, sha256, max_bytes, hashed=hashed)
        if check is not None:
            with path.open("rb") as kept:
                check(kept)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            _rename_into_place(path, target)
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
            with path.open("rb") as source:  # another file system: a verified copy
                return self.put(tenant_id, sha256, source, max_bytes)
        return StoredBlob(sha256, size)

    def exists(self, tenant_id: uuid.UUID, sha256: str) -> bool:
        return self.path(tenant_id, sha256).is_file()

    def open(self, tenant_id: uuid.UUID, sha256: str) -> BinaryIO:
        try:
            return self.path(tenant_id, sha256).open("rb")
        except FileNotFoundError:
            raise BlobMissing(sha256) from None

    def delete(self, tenant_id: uuid.UUID, sha256: str) -> bool:
        try:
            self.path(tenant_id, sha256).unlink()
        except FileNotFoundError:
            return False
        return True

    def sweep(self, tenant_id: uuid.UUID, keep: Set[str], older_than: float) -> int:
        """Delete the tenant's blobs not in ``keep`` last written before ``older_than``
        (a POSIX time), and leftovers of crashed uploads; how many blobs went.

        A blob is first renamed aside, atomically, and only then judged by the age of
        what was renamed: if an upload replaced it meanwhile (fresh bytes, fresh
        mtime) it is put back, so a sweep never loses bytes an upload just stored.
        """
        swept = 0
        for folder in sorted((self.root / str(tenant_id)).glob("??")):
            for path in sorted(folder.iterdir()):
                name = path.name
                if name.endswith((".partial", ".sweeping")):  # what a crash left
                    if path.stat().st_mtime < older_than:
                        path.unlink(missing_ok=True)
                elif _SHA256.fullmatch(name) and name not in keep:
                    swept += _sweep_one(path, older_than)
        return swept


def _sweep_one(path: Path, older_than: float) -> int:
    if path.stat().st_mtime >= older_than:
        return 0
    aside = path.with_name(f".{path.name}.{secrets.token_hex(8)}.sweeping")
    try:
        os.replace(path, aside)
    except FileNotFoundError:
        return 0
    if aside.stat().st_mtime >= older_than:  # an upload replaced it just now: keep it
        os.replace(aside, path)
        return 0
    aside.unlink()
    return 1


def _write_verified(temp: Path, sha256: str, stream: ByteSource, max_bytes: int) -> int:
    """Copy ``stream`` into ``temp`` (created exclusively), hashing as it goes; the size."""
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        size = copy_verified(stream, out, sha256, max_bytes)
        out.flush()
        os.fsync(out.fileno())
    return size


def verify_file(path: Path, sha256: str, max_bytes: int, *, hashed: bool) -> int:
    """The size of the file at ``path`` once it is at most ``max_bytes`` and (unless the
    caller already ``hashed`` it) hashes to ``sha256``; :class:`BlobTooLarge` or
    :class:`ChecksumMismatch` otherwise."""
    size = path.stat().st_size
    if size > max_bytes:
        raise BlobTooLarge(max_bytes)
    if not hashed:
        with path.open("rb") as source:
            actual = hashlib.file_digest(source, "sha256").hexdigest()
        if actual != sha256:
            raise ChecksumMismatch(sha256, actual)
    return size


def copy_verified(stream: ByteSource, out: BinaryIO, sha256: str, max_bytes: int) -> int:
    """Copy ``stream`` into ``out`` chunk by chunk, hashing as it goes; the size.

    :class:`BlobTooLarge` past ``max_bytes``, :class:`ChecksumMismatch` if the bytes do
    not hash to ``sha256``: either way ``out`` holds rejected bytes the caller discards.
    Never more than one chunk is held in memory.
    """
    digest = hashlib.sha256()
    size = 0
    while True:
        # Never ask for more than one byte past the limit: that byte proves "too large".
        chunk = stream.read(min(CHUNK_BYTES, max_bytes + 1 - size))
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise BlobTooLarge(max_bytes)
        digest.update(chunk)
        out.write(chunk)
    actual = digest.hexdigest()
    if actual != sha256:
        raise ChecksumMismatch(sha256, actual)
    return size


def _rename_into_place(source: Path, target: Path) -> None:
    """``os.replace(source, target)``, made durable (the directory fsynced). When the store
    held these bytes already (the same photo sent again), their old copy is freed only
    after that, on a thread of its own: freeing a large file is file-system work the
    caller need not wait for (about 9 ms for 50 MB here, in the request that completes
    the upload), and freed before the directory's fsync it made that fsync wait for it.
    A descriptor keeps the old copy alive through the rename; closing it frees it.
    Readers see the rename, as before."""
    try:
        old: int | None = os.open(target, os.O_RDONLY)
    except OSError:  # nothing there yet (the usual case)
        old = None
    try:
        os.replace(source, target)
        _fsync_directory(target.parent)  # make the rename itself durable
    finally:
        if old is not None:
            _close_later(old)


def _close_later(fd: int) -> None:
    try:
        threading.Thread(target=os.close, args=(fd,), name="blob-free", daemon=True).start()
    except RuntimeError:  # no thread to be had: here, then
        os.close(fd)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
