"""Photo bytes (PROTOCOL.md § 10): is a blob stored, and storing one.

An upload is hashed while it streams into the blob store, outside any database
transaction (25 MiB over a phone link must not hold a transaction open). Only
verified bytes reach the store; then one transaction records the blob in
``sync_blobs`` (idempotent) and settles every ``pending`` photo of the tenant
that references the hash: ``ready``, or ``invalid`` if the photo's declared
size is not the stored size. Photos are updated through the ORM, so the change
log picks the new state up and it syncs to devices like any other change.

A ``sync_blobs`` row is the tenant's claim on the bytes: a tenant that never
uploaded a hash does not have it, even when another tenant stored the same
bytes. A malformed SHA-256 in the URL is a 404 ``request.not_found``: such a
URL names no blob that could exist, exactly as an unknown path does (and a
``HEAD`` answer has no body to carry a 422's explanation anyway).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import delete, exists, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.db import UnitOfWork, UnitOfWorkFactory
from api.errors.common import RouteNotFound
from api.evidence.errors import from_media
from api.evidence.models import Photo, PhotoDerivative
from api.evidence.pipeline import queue_processing
from api.signoff.models import SealedReport
from api.sync.models import SyncBlob
from api.technicians.models import TechnicianPhoto
from media.blobs import (
    BlobStore,
    BlobTooLarge,
    ByteSource,
    ChecksumMismatch,
    MalformedDigest,
    StoredBlob,
    check_digest,
)
from media.jpeg_check import JpegCheck
from media.validate import ImageInfo, MarkupScan, MediaRefused, validate_image
from sync_protocol.entities import BlobState, PhotoType, blob_state
from sync_protocol.errors import ProtocolError
from sync_protocol.mutations import MAX_PHOTO_BYTES


@dataclass(frozen=True)
class BlobUpload:
    """What the request says about the bytes before any of them is read."""

    sha256: str
    content_type: str  # the mimetype, without parameters
    declared_size: int | None  # Content-Length, when the client sent one


@dataclass(frozen=True)
class StoredUpload:
    sha256: str
    content_type: str
    size: int
    created: bool  # False: the tenant already had these bytes


def blob_exists(reader: UnitOfWork, actor: Actor, sha256: str) -> bool:
    """Whether the caller's tenant has stored these bytes (a malformed hash: 404)."""
    _require_digest(sha256)
    with reader as unit:
        found = unit.session.scalar(
            select(SyncBlob.sha256).where(
                SyncBlob.tenant_id == actor.tenant_id, SyncBlob.sha256 == sha256
            )
        )
    return found is not None


def upload_blob(
    uow: UnitOfWork, store: BlobStore, actor: Actor, upload: BlobUpload, stream: ByteSource
) -> StoredUpload:
    """Verify and store the bytes, then record them and settle the photos waiting for them.

    Refusals (nothing is kept): ``sync.unsupported_media_type``, ``sync.blob_too_large``
    (declared or streamed past 25 MiB), ``sync.checksum_mismatch``, then the image
    checks of :mod:`media.validate` (``media.unsupported_type``, ``media.corrupt``,
    ``media.too_many_pixels``, ``media.polyglot``) on the verified bytes before the
    store makes them visible.
    """
    _require_digest(upload.sha256)
    content_type = _photo_type(upload.content_type)
    if upload.declared_size is not None and upload.declared_size > MAX_PHOTO_BYTES:
        raise _too_large()  # refused before a byte is read
    try:
        stored, content_type = put_image(
            store, actor.tenant_id, upload.sha256, stream, MAX_PHOTO_BYTES
        )
    except BlobTooLarge:
        raise _too_large() from None
    except ChecksumMismatch as mismatch:
        raise ProtocolError(
            "sync.checksum_mismatch",
            f"The bytes hash to {mismatch.actual}, not to the SHA-256 in the URL",
        ) from None
    with uow as unit:
        created = record_blob(
            unit.session, actor.tenant_id, upload.sha256, content_type, stored.size
        )
        unit.commit()
    return StoredUpload(upload.sha256, content_type.value, stored.size, created)


def put_image(
    store: BlobStore, tenant_id: uuid.UUID, sha256: str, stream: ByteSource, max_bytes: int
) -> tuple[StoredBlob, PhotoType]:
    """Store photo bytes only if they are one whole image (:mod:`media.validate`, run by
    the store on the verified bytes before they become visible); what was stored and
    the type the bytes are (not the one the client named: it is what reads serve).

    A refused image raises its ``media.*`` API error; the store's own refusals
    (:class:`BlobTooLarge`, :class:`ChecksumMismatch`) are the caller's to answer.
    Used by the PUT above and by resumable uploads (:mod:`api.uploads`).
    """
    validated: list[ImageInfo] = []

    def judge(kept: BinaryIO) -> None:
        validated.append(validate_image(kept))

    try:
        stored = store.put(tenant_id, sha256, stream, max_bytes, check=judge)
    except MediaRefused as refusal:
        raise from_media(refusal) from None
    return stored, stored_type(validated[0])


def put_image_file(
    store: BlobStore,
    tenant_id: uuid.UUID,
    sha256: str,
    path: Path,
    max_bytes: int,
    *,
    hashed: bool,
    scanned: MarkupScan | None = None,
    checked: JpegCheck | None = None,
) -> tuple[StoredBlob, PhotoType]:
    """:func:`put_image` for bytes already in a local file (a finished tus upload): the
    store takes the file over without copying it (``BlobStore.put_file``), and does not
    hash it again when the caller ``hashed`` it while it arrived, nor scan it for markup
    again when ``scanned`` was fed every byte, nor walk a JPEG's structure again when
    ``checked`` was."""
    validated: list[ImageInfo] = []

    def judge(kept: BinaryIO) -> None:
        validated.append(validate_image(kept, scanned=scanned, checked=checked))

    try:
        stored = store.put_file(tenant_id, sha256, path, max_bytes, check=judge, hashed=hashed)
    except MediaRefused as refusal:
        raise from_media(refusal) from None
    return stored, stored_type(validated[0])


def record_blob(
    session: Session, tenant_id: uuid.UUID, sha256: str, content_type: PhotoType, size: int
) -> bool:
    """Record bytes now in the store as the tenant's and settle the photos waiting for
    them (the caller commits); False if the tenant already had them. Used by the PUT
    above and by resumable uploads (:mod:`api.uploads`) when their last byte arrives."""
    lock_blob(session, tenant_id, sha256)
    created = _record(session, tenant_id, sha256, content_type, size)
    # Also on a repeated upload: a photo that arrived while the first upload was
    # committing may still be pending, and a retry must be able to settle it.
    settle_photos(session, tenant_id, sha256, size)
    return created


def lock_blob(session: Session, tenant_id: uuid.UUID, sha256: str) -> None:
    """Serialise, per (tenant, hash), an upload's commit with a push that references it.

    Without it, on PostgreSQL a push could read "no bytes yet" and commit its photo
    ``pending`` just after an upload committed having seen no photo to settle, and
    the photo would stay pending for good. Holding this transaction lock, whoever
    comes second sees what the first committed. SQLite admits one writer at a time.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"{tenant_id}:{sha256}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def settle_photos(session: Session, tenant_id: uuid.UUID, sha256: str, size: int) -> int:
    """Move the tenant's pending photos of ``sha256`` to ready (or invalid); how many."""
    pending = session.scalars(
        select(Photo).where(
            Photo.tenant_id == tenant_id,
            Photo.sha256 == sha256,
            Photo.state == BlobState.PENDING.value,
        )
    ).all()
    for photo in pending:
        photo.state = blob_state(present=True, size_matches=photo.size == size).value
        if photo.state == BlobState.READY.value:
            queue_processing(session, tenant_id, photo.id)
    return len(pending)


def _require_digest(sha256: str) -> None:
    try:
        check_digest(sha256)
    except MalformedDigest:
        raise RouteNotFound("A blob is named by 64 lowercase hex digits of SHA-256") from None


def stored_type(image: ImageInfo) -> PhotoType:
    """The content type recorded (and served) for validated bytes: what they are.

    HEIF images that are not HEVC-coded (brand ``mif1``) are recorded as HEIC, the
    one HEIF type of § 9: clients decode both with the same library.
    """
    return PhotoType.HEIC if image.mime == "image/heif" else PhotoType(image.mime)


def _record(
    session: Session, tenant_id: uuid.UUID, sha256: str, content_type: PhotoType, size: int
) -> bool:
    """Insert the tenant's claim on the bytes; False if it was already there (or raced in)."""
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        make(SyncBlob)
        .values(tenant_id=tenant_id, sha256=sha256, content_type=content_type.value, size=size)
        .on_conflict_do_nothing()
        .returning(SyncBlob.sha256)  # a row only when this insert made it
    )
    return session.scalar(statement) is not None


def _photo_type(mimetype: str) -> PhotoType:
    try:
        return PhotoType(mimetype)
    except ValueError:
        accepted = ", ".join(t.value for t in PhotoType)
        raise ProtocolError(
            "sync.unsupported_media_type", f"Send the bytes as one of {accepted}"
        ) from None


def _too_large() -> ProtocolError:
    return ProtocolError(
        "sync.blob_too_large", f"A photo is at most {MAX_PHOTO_BYTES} bytes (25 MiB)"
    )


BLOB_RETENTION = timedelta(days=7)  # unreferenced bytes are kept this long (§ 10)
UPLOAD_GRACE = timedelta(hours=1)  # files younger than this may belong to an upload in flight


@dataclass(frozen=True)
class Collected:
    claims: int  # sync_blobs rows removed
    files: int  # files removed from the store


def collect_garbage(
    uow: UnitOfWorkFactory, store: BlobStore, tenant_id: uuid.UUID, now: datetime
) -> Collected:
    """Drop bytes no photo references after :data:`BLOB_RETENTION` (PROTOCOL.md § 10).

    First the tenant's claims (``sync_blobs`` rows) that no photo references and
    that are older than the retention, one by one under the per-hash lock, so a
    push referencing the hash either sees the claim (and the photo is ready) or
    comes after and finds the bytes missing (the photo is pending and the device,
    whose ``HEAD`` now says 404, uploads them again). Then the files no claim
    names and nothing has written for :data:`UPLOAD_GRACE`: an upload in flight
    always writes its file before it records its claim.
    """
    cutoff = now - BLOB_RETENTION
    with uow.reader() as reader:
        candidates = list(
            reader.session.scalars(
                select(SyncBlob.sha256).where(
                    SyncBlob.tenant_id == tenant_id,
                    SyncBlob.created_at < cutoff,
                    ~_referenced(tenant_id, SyncBlob.sha256),
                )
            )
        )
    claims = sum(_drop_claim(uow, tenant_id, sha256, cutoff) for sha256 in candidates)
    with uow.reader() as reader:
        keep = set(
            reader.session.scalars(select(SyncBlob.sha256).where(SyncBlob.tenant_id == tenant_id))
        )
        # The pipeline's renditions live in the same store; their photos own them.
        keep |= set(
            reader.session.scalars(
                select(PhotoDerivative.sha256).where(PhotoDerivative.tenant_id == tenant_id)
            )
        )
        # Sealed reports' PDFs too (api.signoff.pdf_job); a report is never deleted.
        keep |= set(
            reader.session.scalars(
                select(SealedReport.pdf_sha256).where(
                    SealedReport.tenant_id == tenant_id, SealedReport.pdf_sha256.is_not(None)
                )
            )
        )
        # Technicians' profile photos and their portraits (api.technicians.photos).
        for column in (
            TechnicianPhoto.sha256,
            TechnicianPhoto.small_sha256,
            TechnicianPhoto.large_sha256,
        ):
            keep |= set(
                reader.session.scalars(select(column).where(TechnicianPhoto.tenant_id == tenant_id))
            )
    files = store.sweep(tenant_id, keep, (now - UPLOAD_GRACE).timestamp())
    return Collected(claims, files)


def _drop_claim(uow: UnitOfWorkFactory, tenant_id: uuid.UUID, sha256: str, cutoff: datetime) -> int:
    with uow() as unit:
        lock_blob(unit.session, tenant_id, sha256)
        gone = unit.session.execute(
            delete(SyncBlob).where(
                SyncBlob.tenant_id == tenant_id,
                SyncBlob.sha256 == sha256,
                SyncBlob.created_at < cutoff,
                ~_referenced(tenant_id, SyncBlob.sha256),
            )
        )
        unit.commit()
    return int(getattr(gone, "rowcount", 0) or 0)


def _referenced(tenant_id: uuid.UUID, sha256: Any) -> Any:
    return exists().where(Photo.tenant_id == tenant_id, Photo.sha256 == sha256)
