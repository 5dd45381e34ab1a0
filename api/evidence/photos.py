"""A photo's original bytes for the staff who may see the photo.

The bytes are found through the photo (never by hash alone): the caller must be
able to open the order. Customer contacts never get an original (it keeps its
EXIF position): they are shown customer-visible photos through their renditions.
The store is the tenant's own (bytes are stored per tenant), and only a
``ready`` photo's bytes are served: those are the bytes that hashed to its
SHA-256, had its declared size and passed :mod:`media.validate`, and they are
served as the image type they were validated as.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import select

from api.auth.actor import Actor
from api.auth.permissions import Role
from api.db import UnitOfWork
from api.evidence.errors import PhotoBytesNotReady, PhotoNotFound
from api.evidence.queries import access_photo
from api.sync.models import SyncBlob
from media.blobs import BlobMissing, BlobStore
from sync_protocol.entities import BlobState


@dataclass(frozen=True)
class PhotoBytes:
    sha256: str
    content_type: str
    size: int
    stream: BinaryIO  # the caller closes it (Flask's send_file does)


def open_photo(
    reader: UnitOfWork,
    store: BlobStore,
    actor: Actor,
    work_order_id: uuid.UUID,
    photo_id: uuid.UUID,
) -> PhotoBytes:
    """404 ``photo.not_found`` as :func:`access_photo`; 409 ``photo.bytes_not_ready``
    while the bytes have not arrived (``state`` says pending or invalid)."""
    with reader as uow:
        photo = access_photo(uow.session, actor, work_order_id, photo_id)
        if actor.role is Role.CUSTOMER_CONTACT:
            # The original still carries its EXIF (GPS position, capture time): customers
            # see a photo through its renditions (:mod:`api.evidence.photo_reads`).
            raise PhotoNotFound()
        sha256, content_type, size, state = (
            photo.sha256,
            photo.content_type,
            photo.size,
            photo.state,
        )
        # The type the bytes were validated as when uploaded (never the type a device
        # declared for the photo): what the browser is told it is receiving.
        validated = uow.session.scalar(
            select(SyncBlob.content_type).where(
                SyncBlob.tenant_id == actor.tenant_id, SyncBlob.sha256 == sha256
            )
        )
    if state != BlobState.READY.value:
        raise PhotoBytesNotReady(extra={"state": state})
    if validated is not None:
        content_type = validated
    try:
        stream = store.open(actor.tenant_id, sha256)
    except BlobMissing:
        raise PhotoBytesNotReady(extra={"state": "missing"}) from None
    return PhotoBytes(sha256, content_type, size, stream)


_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic"}


def inert_image_headers(content_type: str, name: str) -> dict[str, str]:
    """Headers that keep served image bytes an image: no sniffing, no script, no page.

    ``sandbox`` with ``default-src 'none'`` leaves a document opened from these bytes
    without script, plugins, forms or same-origin access even if a browser ever read
    them as markup; the file name gives saved copies an image extension.
    """
    extension = _EXTENSIONS.get(content_type, "bin")
    return {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Content-Disposition": f'inline; filename="{name}.{extension}"',
    }
