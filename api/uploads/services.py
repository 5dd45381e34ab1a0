"""Resumable uploads: create, append, inspect, terminate, expire (tus 1.0).

Each use case reads the upload through :func:`access_upload` (the caller's own
uploads only; anything else is 404 ``upload.not_found``), applies the rules of
:mod:`media.tus`, and streams bytes into the staging area *outside* any database
transaction (a slow phone must not hold one open). The offset is then moved by
compare-and-set (``WHERE offset = <the offset the append started at>``) while the
staging file's lock is held, so two appends can never both land. The last byte
turns the upload into a blob: the staged file is streamed through the
content-addressed blob store, which keeps it only if it hashes to the ``sha256``
the client declared in ``Upload-Metadata`` (PROTOCOL.md § 10), and one transaction
marks the upload complete, records the blob and settles the photos waiting for it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, select, update

from api.auth.actor import Actor
from api.db import UnitOfWork, new_id
from api.evidence.errors import MEDIA_ERRORS
from api.sync.blobs import put_image_file, record_blob
from api.uploads import errors
from api.uploads.models import TusUpload
from media import tus
from media.blobs import BlobStore, ByteSource, ChecksumMismatch, MalformedDigest, check_digest
from sync_protocol.entities import PhotoType


@dataclass(frozen=True)
class Upload:
    """An upload as the views report it."""

    id: uuid.UUID
    length: int
    offset: int
    expires_at: datetime
    completed: bool
    sha256: str
    content_type: str
    metadata: dict[str, str]

    @property
    def state(self) -> tus.UploadState:
        return tus.UploadState(self.length, self.offset, self.expires_at, self.completed)


@dataclass(frozen=True)
class Chunk:
    """One request body to append, as the request describes it."""

    offset: int
    checksum: tus.Checksum | None
    declared: int | None  # Content-Length, when sent
    stream: ByteSource


class UnitsOfWork(Protocol):
    """Units of work to write (called) and to read (``reader``)."""

    def __call__(self) -> UnitOfWork: ...

    def reader(self) -> UnitOfWork: ...


@dataclass(frozen=True)
class Uploads:
    """Where uploads live: the database, the staging folder and the blob store."""

    uow: UnitsOfWork
    staging: tus.StagingArea
    store: BlobStore
    max_bytes: int
    digests: tus.RunningDigests = tus.RUNNING


def create_upload(
    uploads: Uploads, actor: Actor, length: int, metadata: dict[str, str], now: datetime
) -> Upload:
    """A new, empty upload of ``length`` bytes; Upload-Metadata must name the photo's
    ``sha256`` and its ``filetype`` (``content_type`` is accepted as well)."""
    if length > uploads.max_bytes:
        raise errors.UploadTooLarge(f"An upload is at most {uploads.max_bytes} bytes")
    sha256, content_type = _declared_blob(metadata)
    row = TusUpload(
        id=new_id(),
        tenant_id=actor.tenant_id,
        owner_id=_owner(actor),
        length=length,
        offset=0,
        sha256=sha256,
        content_type=content_type.value,
        upload_metadata=metadata,
        created_at=now,
        expires_at=tus.next_expiry(now),
    )
    uploads.staging.create(row.id)
    try:
        with uploads.uow() as unit:
            unit.session.add(row)
            unit.commit()
    except BaseException:
        uploads.staging.discard(row.id)
        raise
    return _view(row)


def access_upload(reader: UnitOfWork, actor: Actor, upload_id: uuid.UUID) -> Upload:
    """The caller's own upload; 404 for anyone else's, or none."""
    with reader as unit:
        row = unit.session.scalar(
            select(TusUpload).where(
                TusUpload.id == upload_id,
                TusUpload.tenant_id == actor.tenant_id,
                TusUpload.owner_id == _owner(actor),
            )
        )
        if row is None:
            raise errors.UploadNotFound()
        return _view(row)


def _view(row: TusUpload) -> Upload:
    return Upload(
        row.id,
        row.length,
        row.offset,
        row.expires_at,
        row.completed_at is not None,
        row.sha256,
        row.content_type,
        dict(row.upload_metadata),
    )


def inspect_upload(reader: UnitOfWork, actor: Actor, upload_id: uuid.UUID, now: datetime) -> Upload:
    """For ``HEAD``: the upload, or 410 ``upload.expired`` once an unfinished one expired."""
    upload = access_upload(reader, actor, upload_id)
    if not upload.completed and upload.expires_at <= now:
        raise errors.UploadExpired()
    return upload


def append_chunk(
    uploads: Uploads, actor: Actor, upload_id: uuid.UUID, chunk: Chunk, now: datetime
) -> Upload:
    """Append one body at ``chunk.offset``; complete the upload with its last byte."""
    try:
        _check(access_upload(uploads.uow.reader(), actor, upload_id), chunk, now)
        with uploads.staging.locked(upload_id) as staged:
            # Read again under the lock: this offset is the compare-and-set's base.
            upload = access_upload(uploads.uow.reader(), actor, upload_id)
            _check(upload, chunk, now)
            if staged.size() < upload.offset:  # the staged bytes were lost (a wiped disk)
                raise tus.UploadExpired("The upload's bytes are gone; start a new one")
            room = upload.length - upload.offset
            running = uploads.digests.take(upload_id, upload.offset)
            appended = staged.append(
                upload.offset, chunk.stream, room, chunk.checksum, chunk.declared, running
            )
            if appended.offset == upload.length:
                return _complete(uploads, actor, upload, staged, appended.running, now)
            expires_at = tus.next_expiry(now)
            _advance(uploads.uow, upload, appended.offset, expires_at, completed_at=None)
            if appended.running is not None:  # recorded: the next append goes on from it
                uploads.digests.keep(upload_id, appended.offset, appended.running)
    except tus.TusError as error:
        raise errors.from_tus(error) from None
    return _moved(upload, appended.offset, expires_at, completed=False)


def terminate_upload(uploads: Uploads, actor: Actor, upload_id: uuid.UUID) -> None:
    """Delete the upload and its staged bytes (the termination extension); a completed
    upload's blob stays, as photos may reference it."""
    access_upload(uploads.uow.reader(), actor, upload_id)
    try:
        with uploads.staging.locked(upload_id):
            _remove(uploads, upload_id)
    except tus.TusError as error:
        raise errors.from_tus(error) from None


def expire_uploads(uploads: Uploads, now: datetime, grace_seconds: float = 3600) -> int:
    """Remove uploads past ``expires_at`` (finished or not) and staged files of no upload;
    how many uploads went. An upload being appended to right now is left for next time."""
    with uploads.uow.reader() as unit:
        expired = list(
            unit.session.scalars(select(TusUpload.id).where(TusUpload.expires_at <= now))
        )
    removed = 0
    for upload_id in expired:
        try:
            with uploads.staging.locked(upload_id):
                _remove(uploads, upload_id)
        except tus.UploadLocked:
            continue
        removed += 1
    with uploads.uow.reader() as unit:
        live = set(unit.session.scalars(select(TusUpload.id)))
    uploads.staging.sweep(live, now.timestamp() - grace_seconds)
    return removed


def _check(upload: Upload, chunk: Chunk, now: datetime) -> None:
    tus.check_append(upload.state, chunk.offset, now)


def _complete(
    uploads: Uploads,
    actor: Actor,
    upload: Upload,
    staged: tus.StagedFile,
    running: tus.Running | None,
    now: datetime,
) -> Upload:
    """Keep the staged bytes as the declared blob, record it, settle waiting photos.

    The hash, the markup scan and a JPEG's structure walk were usually run as the bytes
    arrived (``running``); the store then takes the staged file over by a rename (no
    copy, no second hash) once :mod:`media.validate` accepted it, and without a running
    state it hashes, scans and walks the file first."""
    try:
        if running is not None and running.hexdigest() != upload.sha256:
            raise ChecksumMismatch(upload.sha256, running.hexdigest())
        stored, content_type = put_image_file(
            uploads.store,
            actor.tenant_id,
            upload.sha256,
            staged.path,
            upload.length,
            hashed=running is not None,
            scanned=running.markup if running is not None else None,
            checked=running.jpeg if running is not None else None,
        )
    except MEDIA_ERRORS:  # not an image (media.*), and these bytes never will be
        _remove(uploads, upload.id)
        raise
    except ChecksumMismatch as mismatch:
        _remove(uploads, upload.id)  # these bytes can never become the declared blob
        raise errors.UploadHashMismatch(
            f"The bytes hash to {mismatch.actual}, not to {mismatch.expected}"
        ) from None
    expires_at = tus.next_expiry(now)
    try:
        with uploads.uow() as unit:
            _compare_and_set(unit, upload, upload.length, expires_at, completed_at=now)
            record_blob(unit.session, actor.tenant_id, upload.sha256, content_type, stored.size)
            unit.commit()
    except BaseException:
        _restage(uploads, actor, upload)
        raise
    uploads.staging.discard(upload.id)
    return _moved(upload, upload.length, expires_at, completed=True)


def _restage(uploads: Uploads, actor: Actor, upload: Upload) -> None:
    """After a failed completion: if the store took the staged file over, put back the
    bytes of the recorded offset, so the client can resume from ``HEAD`` as before."""
    if uploads.staging.path(upload.id).exists():
        return
    try:
        with uploads.store.open(actor.tenant_id, upload.sha256) as kept:
            uploads.staging.restore(upload.id, kept, upload.offset)
    except Exception:  # best effort: without the bytes the client starts a new upload
        return


def _moved(upload: Upload, offset: int, expires_at: datetime, *, completed: bool) -> Upload:
    return replace(upload, offset=offset, expires_at=expires_at, completed=completed)


def _advance(
    uow: UnitsOfWork,
    upload: Upload,
    offset: int,
    expires_at: datetime,
    completed_at: datetime | None,
) -> None:
    with uow() as unit:
        _compare_and_set(unit, upload, offset, expires_at, completed_at)
        unit.commit()


def _compare_and_set(
    unit: UnitOfWork,
    upload: Upload,
    offset: int,
    expires_at: datetime,
    completed_at: datetime | None,
) -> None:
    moved = unit.session.execute(
        update(TusUpload)
        .where(
            TusUpload.id == upload.id,
            TusUpload.offset == upload.offset,
            TusUpload.completed_at.is_(None),
        )
        .values(offset=offset, expires_at=expires_at, completed_at=completed_at)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise errors.UploadOffsetMismatch("The upload moved on meanwhile; HEAD it and resume")


def _remove(uploads: Uploads, upload_id: uuid.UUID) -> None:
    uploads.digests.forget(upload_id)
    with uploads.uow() as unit:
        unit.session.execute(delete(TusUpload).where(TusUpload.id == upload_id))
        unit.commit()
    uploads.staging.discard(upload_id)


def _declared_blob(metadata: dict[str, str]) -> tuple[str, PhotoType]:
    sha256 = metadata.get("sha256", "")
    try:
        check_digest(sha256)
    except MalformedDigest:
        raise errors.UploadMetadataInvalid(
            "Upload-Metadata sha256: the photo's SHA-256, 64 lowercase hex digits"
        ) from None
    content_type = metadata.get("filetype") or metadata.get("content_type") or ""
    try:
        return sha256, PhotoType(content_type)
    except ValueError:
        accepted = ", ".join(kind.value for kind in PhotoType)
        raise errors.UploadUnsupportedMediaType(
            f"Upload-Metadata filetype must be one of {accepted}"
        ) from None


def _owner(actor: Actor) -> uuid.UUID:
    owner = actor.principal_id
    if owner is None:
        raise errors.UploadNotFound()  # the system has no uploads of its own
    return owner
