"""The photo pipeline as an outbox job: when a photo's bytes are here, derive what it needs.

A photo whose bytes arrive (``pending`` → ``ready``, or recorded when the bytes
were already stored) gets one ``photo.process`` message in the same transaction
(:func:`queue_processing`). The worker then runs :func:`process_photo_job`:

1. lock the photo (PostgreSQL), so a job and an annotation edit queue up;
2. if its derivatives are done, only (re)render the ``annotated`` one when the
   office's annotations have no rendition yet: a job that runs twice does nothing
   the second time;
3. if another photo of the tenant with the same SHA-256 is done, copy its
   metadata and derivative rows (the bytes are shared): one original is decoded
   once, however many photos reference it;
4. otherwise decode it (:func:`media.pipeline.process_photo`), store each WebP
   derivative in the blob store under its own SHA-256 and link it to the photo.

An original that is not a usable image marks the photo ``failed`` with the
``media.*`` code and the message is done: retrying would fail the same way, and the
worker goes on. Errors of the store (bytes missing, a full disk) are raised, so the
worker retries with backoff. Photo columns are written with an UPDATE statement,
not through the session: they are server-side only (not in the synced row image),
so there is nothing for the change log to send to devices.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from api.evidence.models import Photo, PhotoDerivative
from api.outbox.models import OutboxMessage
from api.outbox.services import publish
from api.outbox.worker import Handler
from media.annotate import render_annotated, shapes_from_json
from media.blobs import BlobStore
from media.derive import Derivative
from media.pipeline import ProcessedPhoto, process_photo
from media.validate import MediaRefused
from sync_protocol.entities import BlobState

TOPIC = "photo.process"
ANNOTATED = "annotated"
MAX_DERIVATIVE_BYTES = 25 * 1024 * 1024


class Processing:
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


def queue_processing(session: Session, tenant_id: uuid.UUID, photo_id: uuid.UUID) -> None:
    """Have the worker derive this photo's renditions once this transaction commits."""
    payload = {"tenant_id": str(tenant_id), "photo_id": str(photo_id)}
    publish(session, tenant_id, TOPIC, payload)


def photo_handler(store: BlobStore) -> Handler:
    """The outbox handler of ``photo.process`` messages, storing into ``store``."""

    def handle(session: Session, message: OutboxMessage) -> None:
        payload = message.payload
        process_photo_job(
            session, store, uuid.UUID(payload["tenant_id"]), uuid.UUID(payload["photo_id"])
        )

    return handle


def process_photo_job(
    session: Session, store: BlobStore, tenant_id: uuid.UUID, photo_id: uuid.UUID
) -> str | None:
    """Bring one photo's derivatives up to date; its ``processing`` state afterwards
    (``None``: no such photo, or its bytes are not here)."""
    stmt = select(Photo).where(Photo.tenant_id == tenant_id, Photo.id == photo_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    photo = session.scalars(stmt).one_or_none()
    if photo is None or photo.state != BlobState.READY.value:
        return None
    if photo.processing == Processing.PENDING and not _copy_from_twin(session, photo):
        data = _read(store, tenant_id, photo.sha256)
        try:
            processed = process_photo(data)
        except MediaRefused as refused:
            _set(session, photo, processing=Processing.FAILED, processing_error=refused.code)
            return Processing.FAILED
        _keep(session, store, photo, processed)
    if photo.processing == Processing.DONE and photo.annotations:
        _ensure_annotated(session, store, photo)
    return photo.processing


def derivatives_of(session: Session, photo_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    """Each photo's derivative rows, by photo id, smallest first."""
    found: dict[uuid.UUID, list[Any]] = {photo_id: [] for photo_id in photo_ids}
    if not photo_ids:
        return found
    rows = session.scalars(
        select(PhotoDerivative)
        .where(PhotoDerivative.photo_id.in_(photo_ids))
        .order_by(PhotoDerivative.width, PhotoDerivative.kind)
    )
    for row in rows:
        found[row.photo_id].append(row)
    return found


def _read(store: BlobStore, tenant_id: uuid.UUID, sha256: str) -> bytes:
    with store.open(tenant_id, sha256) as stream:
        return stream.read()


def _copy_from_twin(session: Session, photo: Photo) -> bool:
    """Take a processed photo's results for the same bytes; False if there is none."""
    twin = session.scalars(
        select(Photo)
        .where(
            Photo.tenant_id == photo.tenant_id,
            Photo.sha256 == photo.sha256,
            Photo.processing == Processing.DONE,
            Photo.id != photo.id,
        )
        .limit(1)
    ).one_or_none()
    if twin is None:
        return False
    copied = (
        "width height captured_at captured_local gps_lat gps_lon gps_alt blurhash dominant_color"
    )
    values = {name: getattr(twin, name) for name in copied.split()}
    for row in derivatives_of(session, [twin.id])[twin.id]:
        if row.kind != ANNOTATED:  # annotations are each photo's own
            _link(session, photo, row.kind, row.sha256, row.width, row.height, row.size)
    _set(session, photo, processing=Processing.DONE, processing_error=None, **values)
    return True


def _keep(session: Session, store: BlobStore, photo: Photo, processed: ProcessedPhoto) -> None:
    for derivative in processed.derivatives:
        _store_derivative(session, store, photo, derivative)
    meta = processed.metadata
    _set(
        session,
        photo,
        processing=Processing.DONE,
        processing_error=None,
        width=processed.width,
        height=processed.height,
        captured_at=meta.captured_at,
        captured_local=meta.captured_local,
        gps_lat=meta.lat,
        gps_lon=meta.lon,
        gps_alt=meta.alt,
        blurhash=processed.placeholder.blurhash,
        dominant_color=processed.placeholder.color,
    )


def _ensure_annotated(session: Session, store: BlobStore, photo: Photo) -> None:
    present = session.scalar(
        select(PhotoDerivative.id).where(
            PhotoDerivative.photo_id == photo.id, PhotoDerivative.kind == ANNOTATED
        )
    )
    if present is not None or not photo.annotations:
        return
    data = _read(store, photo.tenant_id, photo.sha256)
    try:
        derivative = render_annotated(data, shapes_from_json(photo.annotations), ANNOTATED)
    except MediaRefused:
        return  # the original was processed once: it cannot turn unreadable
    _store_derivative(session, store, photo, derivative)


def _store_derivative(
    session: Session, store: BlobStore, photo: Photo, derivative: Derivative
) -> None:
    sha256 = hashlib.sha256(derivative.data).hexdigest()
    stored = store.put(photo.tenant_id, sha256, io.BytesIO(derivative.data), MAX_DERIVATIVE_BYTES)
    _link(session, photo, derivative.name, sha256, derivative.width, derivative.height, stored.size)


def _link(
    session: Session, photo: Photo, kind: str, sha256: str, width: int, height: int, size: int
) -> None:
    # Replaces a row a crashed run may have left (the same kind of the same photo).
    session.execute(
        delete(PhotoDerivative).where(
            PhotoDerivative.photo_id == photo.id, PhotoDerivative.kind == kind
        )
    )
    session.add(
        PhotoDerivative(
            tenant_id=photo.tenant_id,
            photo_id=photo.id,
            kind=kind,
            sha256=sha256,
            content_type="image/webp",
            width=width,
            height=height,
            size=size,
        )
    )


def _set(session: Session, photo: Photo, **values: Any) -> None:
    session.execute(
        update(Photo)
        .where(Photo.id == photo.id)
        .values(**values)
        # The loaded photo takes the new values too, without becoming "dirty".
        .execution_options(synchronize_session="evaluate")
    )
