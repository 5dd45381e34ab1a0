"""Resumable uploads, tus 1.0 (https://tus.io/protocols/resumable-upload): the rules and
the staging area, without HTTP.

An upload is created with its full length; its bytes then arrive in any number
of appends, each starting exactly at the offset the server has recorded. This
module parses the tus headers, decides whether an append may start
(:func:`check_append`), and keeps the partial bytes in a :class:`StagingArea` on
local disk, one file per upload, written chunk by chunk (never a whole body in
memory). An append holds an exclusive, non-blocking ``flock`` on its file, so two
appends to one upload can never both write (the second is :class:`UploadLocked`),
and a crashed worker's lock dies with its process. Bytes past the recorded offset
are provisional: the caller records the new offset only after an append returns,
and the next append first truncates the file back to the recorded offset, so bytes
of an append that never got recorded can never be counted twice.

The upload's SHA-256 (PROTOCOL.md § 10) is computed while the bytes arrive: an
append continues the running hash of the bytes before it when this process holds it
(:class:`RunningDigests`: every append of a one-``PATCH`` upload, and consecutive
appends that reach the same worker), so the last byte needs no second pass over the
file to hash it; an append that finds no running hash leaves the hash to be taken
from the file at the end. The markup (polyglot) scan of :mod:`media.validate` and a
JPEG's structure walk (:mod:`media.jpeg_check`) run alongside the hash in the same reads
(:class:`Running`), on the same terms.

An append that fails its ``Upload-Checksum`` (or would exceed the length) leaves
the file as it was. An append whose connection breaks keeps what arrived, unless it
came with a checksum (that cannot be verified on part of a body), so a client can
resume from the offset a ``HEAD`` reports.
"""

from __future__ import annotations

import base64
import binascii
import errno
import fcntl
import hashlib
import os
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Set
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import BinaryIO

from media.blobs import ByteSource
from media.jpeg_check import JpegCheck
from media.validate import MAX_PIXELS, MAX_SIDE, MarkupScan
from media.writeback import start_writeback

TUS_VERSION = "1.0.0"
EXTENSIONS = ("creation", "creation-with-upload", "termination", "checksum", "expiration")
CHECKSUM_ALGORITHMS = ("sha256",)
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
# An append reads its body this much at a time: large reads cost the WSGI server's body
# reader far fewer copies than 64 KiB ones, and 1 MiB per request in flight is still
# nothing next to the 20 MB a 50 MB upload may add to a worker's memory.
APPEND_READ_BYTES = 1024 * 1024
# An unfinished upload lives this long after its last append (the expiration extension).
EXPIRY = timedelta(hours=24)

_DIGITS = re.compile(r"[0-9]{1,19}", re.ASCII)
_METADATA_KEY = re.compile(r"[!-+\--~]+", re.ASCII)  # printable, no space and no comma


class TusError(Exception):
    """Base of the refusals; ``code`` is the stable error code the API answers with."""

    code = "upload.invalid"


class InvalidHeader(TusError):
    code = "upload.invalid_header"


class VersionUnsupported(TusError):
    code = "upload.version_unsupported"


class ChecksumAlgorithmUnsupported(TusError):
    code = "upload.checksum_algorithm_unsupported"


class OffsetMismatch(TusError):
    code = "upload.offset_mismatch"

    def __init__(self, expected: int, sent: int) -> None:
        super().__init__(f"The upload is at offset {expected}, the request starts at {sent}")
        self.expected = expected


class UploadExpired(TusError):
    code = "upload.expired"


class UploadTooLarge(TusError):
    code = "upload.too_large"


class UploadLocked(TusError):
    code = "upload.locked"


class ChunkChecksumMismatch(TusError):
    code = "upload.checksum_mismatch"


@dataclass(frozen=True)
class Checksum:
    algorithm: str
    digest: bytes


@dataclass(frozen=True)
class UploadState:
    """What an append is judged against (read from wherever the caller keeps uploads)."""

    length: int
    offset: int
    expires_at: datetime
    completed: bool


class Running:
    """What is worked out while an upload's bytes arrive, from its first byte on: the
    SHA-256, :mod:`media.validate`'s markup scan and the walk of a JPEG's structure
    (:mod:`media.jpeg_check`; fed whatever the bytes are, used only if they are a JPEG),
    so the last byte reads none of them from the file again."""

    def __init__(self) -> None:
        self._sha256 = hashlib.sha256()
        self.markup = MarkupScan()
        self.jpeg = JpegCheck(MAX_PIXELS, MAX_SIDE)

    def update(self, data: bytes, /) -> None:
        self._sha256.update(data)  # without the GIL
        self.markup.update(data)
        self.jpeg.update(data)

    def hexdigest(self) -> str:
        return self._sha256.hexdigest()


@dataclass(frozen=True)
class Appended:
    offset: int  # the new offset, to be recorded by the caller
    interrupted: bool  # the body ended early (the client went away)
    running: Running | None = None  # the hash and scan of every byte up to ``offset``, if known


class RunningDigests:
    """Running SHA-256s of this process's uploads, by upload and offset.

    An entry says "the upload's bytes before ``offset`` hash to this state". The staged
    bytes below a *recorded* offset never change (appends start at the recorded offset
    and only truncate back to it), so an entry is kept only once its offset is recorded
    (:meth:`keep`), and :meth:`take` removes it: an append that fails cannot leave a
    state behind that no longer matches the file. Bounded; a missing entry only costs
    one read of the file when the upload completes.
    """

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[uuid.UUID, tuple[int, Running]] = OrderedDict()
        self._lock = threading.Lock()  # request threads of one worker share it

    def take(self, upload_id: uuid.UUID, offset: int) -> Running | None:
        """The running state of the bytes before ``offset`` (a new one at 0), or None."""
        with self._lock:
            entry = self._entries.pop(upload_id, None)
        if offset == 0:
            return Running()
        return entry[1] if entry is not None and entry[0] == offset else None

    def keep(self, upload_id: uuid.UUID, offset: int, running: Running) -> None:
        with self._lock:
            self._entries.pop(upload_id, None)
            self._entries[upload_id] = (offset, running)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget(self, upload_id: uuid.UUID) -> None:
        with self._lock:
            self._entries.pop(upload_id, None)

    def clear(self) -> None:
        """Forget every upload."""
        with self._lock:
            self._entries = OrderedDict()


RUNNING = RunningDigests()  # this process's (each gunicorn worker has its own)


def check_version(header: str | None) -> None:
    """Every request but ``OPTIONS`` names the protocol version it speaks."""
    if header != TUS_VERSION:
        raise VersionUnsupported(f"Send Tus-Resumable: {TUS_VERSION}")


def parse_length(header: str | None, max_bytes: int) -> int:
    length = _non_negative("Upload-Length", header)
    if length == 0:  # no photo is empty, and an empty upload could never finish
        raise InvalidHeader("Upload-Length must be at least 1")
    if length > max_bytes:
        raise UploadTooLarge(f"An upload is at most {max_bytes} bytes")
    return length


def parse_offset(header: str | None) -> int:
    return _non_negative("Upload-Offset", header)


def parse_metadata(header: str | None) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64(value)`` pairs (values UTF-8)."""
    metadata: dict[str, str] = {}
    for pair in (header or "").split(","):
        if not pair.strip():
            continue
        key, _, encoded = pair.strip().partition(" ")
        if not _METADATA_KEY.fullmatch(key) or key in metadata or " " in encoded.strip():
            raise InvalidHeader("Upload-Metadata is key base64-value pairs, keys unique")
        try:
            value = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidHeader(f"Upload-Metadata {key}: not base64 of UTF-8 text") from None
        if "\x00" in value:  # text, never NUL (PostgreSQL's JSON cannot even hold it)
            raise InvalidHeader(f"Upload-Metadata {key}: NUL is not text")
        metadata[key] = value
    return metadata


def encode_metadata(metadata: dict[str, str]) -> str:
    """The ``Upload-Metadata`` header for ``metadata`` (:func:`parse_metadata` reads it back)."""
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}".rstrip()
        for key, value in sorted(metadata.items())
    )


def parse_checksum(header: str | None) -> Checksum | None:
    """``Upload-Checksum: sha256 <base64 digest>`` (the checksum extension); None if absent."""
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise ChecksumAlgorithmUnsupported(f"Upload-Checksum algorithms: {CHECKSUM_ALGORITHMS}")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        raise InvalidHeader("Upload-Checksum: the digest is not base64") from None
    if len(digest) != hashlib.sha256().digest_size:
        raise InvalidHeader("Upload-Checksum: a SHA-256 digest is 32 bytes")
    return Checksum(algorithm, digest)


def check_append(upload: UploadState, offset: int, now: datetime) -> None:
    """Whether an append starting at ``offset`` may proceed at ``now``."""
    if upload.expires_at <= now and not upload.completed:
        raise UploadExpired("The upload expired; create a new one")
    if offset != upload.offset or upload.completed:
        raise OffsetMismatch(upload.offset, offset)


def next_expiry(now: datetime) -> datetime:
    return now + EXPIRY


def http_date(moment: datetime) -> str:
    """``Upload-Expires`` is an RFC 9110 date: ``Fri, 04 Dec 2026 10:00:00 GMT``."""
    return format_datetime(moment, usegmt=True)


def _non_negative(name: str, header: str | None) -> int:
    if header is None or not _DIGITS.fullmatch(header.strip()):
        raise InvalidHeader(f"{name} must be a non-negative integer")
    return int(header.strip())


class StagingArea:
    """Partial uploads as files ``<root>/<upload id>``; see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, upload_id: uuid.UUID) -> Path:
        return self.root / str(upload_id)

    def create(self, upload_id: uuid.UUID) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        os.close(os.open(self.path(upload_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))

    @contextmanager
    def locked(self, upload_id: uuid.UUID) -> Iterator[StagedFile]:
        """The upload's file, held exclusively; :class:`UploadLocked` if someone holds it."""
        try:
            fd = os.open(self.path(upload_id), os.O_RDWR)
        except FileNotFoundError:
            self.root.mkdir(parents=True, exist_ok=True)
            # The row outlived its file (e.g. a restored database): start it empty again.
            fd = os.open(self.path(upload_id), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise UploadLocked("Another request is appending to this upload") from None
                raise
            yield StagedFile(fd, self.path(upload_id))
        finally:
            os.close(fd)  # closing releases the lock

    def restore(self, upload_id: uuid.UUID, source: BinaryIO, length: int) -> None:
        """The upload's file, again, as the first ``length`` bytes of ``source`` (after a
        completion that moved the file out failed to be recorded); atomic by rename."""
        temp = self.root / f".{upload_id}.restore"
        with temp.open("wb") as out:
            left = length
            while left and (chunk := source.read(min(APPEND_READ_BYTES, left))):
                out.write(chunk)
                left -= len(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, self.path(upload_id))

    def discard(self, upload_id: uuid.UUID) -> None:
        self.path(upload_id).unlink(missing_ok=True)

    def sweep(self, keep: Set[uuid.UUID], older_than: float) -> int:
        """Remove files of no live upload, untouched since ``older_than`` (POSIX time)."""
        swept = 0
        if not self.root.is_dir():
            return 0
        for path in sorted(self.root.iterdir()):
            try:
                upload_id = uuid.UUID(path.name)
            except ValueError:
                continue
            if upload_id not in keep and path.stat().st_mtime < older_than:
                path.unlink(missing_ok=True)
                swept += 1
        return swept


@dataclass(frozen=True)
class StagedFile:
    """An upload's file while its lock is held."""

    fd: int
    path: Path

    def append(
        self,
        offset: int,
        stream: ByteSource,
        room: int,
        checksum: Checksum | None,
        declared: int | None,
        running: Running | None = None,
    ) -> Appended:
        """Write the body at ``offset``: at most ``room`` bytes, ``declared`` if the client
        said how many (fewer arriving means the connection broke). ``running``, the hash
        of the bytes before ``offset``, goes on over the body (the result's ``running``)."""
        os.ftruncate(self.fd, offset)  # drop bytes of an append that was never recorded
        if declared is not None and declared > room:  # refused before a byte is read
            raise UploadTooLarge("The body goes past the upload's Upload-Length")
        os.lseek(self.fd, offset, os.SEEK_SET)
        digest = hashlib.sha256() if checksum is not None else None
        written, interrupted = 0, False
        while True:
            want = min(APPEND_READ_BYTES, room + 1 - written)
            try:
                chunk = stream.read(want)
            except ConnectionError:
                interrupted = True
                break
            if not chunk:
                interrupted = declared is not None and written < declared
                break
            written += len(chunk)
            if written > room:
                os.ftruncate(self.fd, offset)
                raise UploadTooLarge("The body goes past the upload's Upload-Length")
            if digest is not None:
                digest.update(chunk)
            if running is not None:
                running.update(chunk)
            _write_all(self.fd, chunk)
            start_writeback(self.fd, offset + written - len(chunk), len(chunk))
        if checksum is not None and digest is not None and interrupted:
            os.ftruncate(self.fd, offset)  # part of a checksummed body cannot be verified
            return Appended(offset, interrupted=True)  # the running hash went past it
        if checksum is not None and digest is not None and digest.digest() != checksum.digest:
            os.ftruncate(self.fd, offset)
            raise ChunkChecksumMismatch("The body does not match Upload-Checksum")
        os.fsync(self.fd)  # once per append: the offset is recorded only after this
        return Appended(offset + written, interrupted, running)

    def reader(self) -> BinaryIO:
        """The staged bytes from the start (a new descriptor: the lock stays held)."""
        return self.path.open("rb")

    def size(self) -> int:
        return os.fstat(self.fd).st_size

    def truncate(self, offset: int) -> None:
        os.ftruncate(self.fd, offset)


def _write_all(fd: int, chunk: bytes) -> None:
    view = memoryview(chunk)
    while view:
        view = view[os.write(fd, view) :]
