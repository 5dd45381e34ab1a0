"""Photos sent with a public repair request: checked like any photo, kept as the order's.

Each photo goes through :func:`api.sync.blobs.put_image` (type by magic bytes,
Pillow's full decode, pixel and polyglot limits) before the store keeps it, then
becomes an internal photo of the new order, pointing at the asset, ready for the
image pipeline. A refused photo is a ``media.*`` 422 and the order is not opened.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from api.db import UnitOfWork
from api.evidence.models import Photo
from api.sync.blobs import put_image, record_blob
from media.blobs import BlobStore
from sync_protocol.entities import PhotoType

MAX_PHOTOS = 3
MAX_PHOTO_BYTES = 5 * 1024 * 1024  # a phone photo, downsized by the page if need be


@dataclass(frozen=True)
class Stored:
    sha256: str
    content_type: str
    size: int


def store_photos(store: BlobStore, tenant_id: uuid.UUID, photos: Sequence[bytes]) -> list[Stored]:
    """Validate and store the bytes (before any order exists, so a bad photo opens none)."""
    kept: list[Stored] = []
    for data in photos:
        digest = hashlib.sha256(data).hexdigest()
        stored, content_type = put_image(
            store, tenant_id, digest, io.BytesIO(data), MAX_PHOTO_BYTES
        )
        kept.append(Stored(digest, content_type.value, stored.size))
    return kept


def attach_photos(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    work_order_id: uuid.UUID,
    asset_id: uuid.UUID,
    photos: Sequence[Stored],
) -> None:
    with uow:
        session = uow.session
        for photo in photos:
            session.add(
                Photo(
                    tenant_id=tenant_id,
                    work_order_id=work_order_id,
                    asset_id=asset_id,
                    author_kind="public",
                    sha256=photo.sha256,
                    content_type=photo.content_type,
                    size=photo.size,
                    caption="报修照片",
                )
            )
        session.flush()  # the photos wait for their bytes, which record_blob then settles
        for photo in photos:
            record_blob(session, tenant_id, photo.sha256, _type(photo.content_type), photo.size)
        uow.commit()


def _type(content_type: str) -> PhotoType:
    return PhotoType(content_type)
