"""Reading photos with their renditions, and serving bytes through short-lived links.

Lists go through the same accessors as every evidence read (:mod:`api.evidence.queries`):
staff see every photo of what they may open, customer contacts only photos shown to
customers and not voided. Each photo comes with its renditions (thumbnail, display,
annotated: upright WebP without EXIF), its placeholder and, for staff, its EXIF
position and a link to the original (the original still carries its EXIF, so a
customer never gets one, nor the position).

Every link is short-lived: presigned by the store when it can (S3), otherwise signed
by the app (:class:`media.links.LinkSigner`) and served by :func:`open_link`, which
needs no login (the link is the credential) and trusts nothing but the signature. A
link outlives a later change of visibility by at most its lifetime (15 to 20 minutes).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import scoping
from api.assets.queries import access_asset
from api.auth.actor import Actor
from api.auth.permissions import Role
from api.evidence.errors import MediaLinkExpired, MediaLinkInvalid
from api.evidence.models import Photo, PhotoDerivative
from api.evidence.pipeline import derivatives_of
from api.evidence.queries import access_note, access_photo, list_evidence, visible
from api.http.pagination import Page, paginate
from api.sync.models import SyncBlob
from api.workorders.models import WorkOrder
from media.blobs import BlobMissing, BlobStore
from media.links import BlobLink, LinkExpired, LinkRefused, LinkSigner, PresigningStore

_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic"}


@dataclass(frozen=True)
class LinkedBlob:
    kind: str
    content_type: str
    width: int | None
    height: int | None
    size: int
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class Linker:
    """Makes links to one store's bytes, as of one moment."""

    store: BlobStore
    signer: LinkSigner
    now: float

    def link(
        self, tenant_id: uuid.UUID, sha256: str, variant: str, content_type: str, filename: str
    ) -> tuple[str, datetime]:
        expires = self.signer.expiry(self.now)
        if isinstance(self.store, PresigningStore):
            url = self.store.presigned_url(
                tenant_id,
                sha256,
                content_type=content_type,
                filename=filename,
                expires_in=int(expires - self.now),
            )
        else:
            link = BlobLink(tenant_id, sha256, variant, content_type, filename, expires)
            url = f"/v1/media/{self.signer.sign(link)}"
        return url, datetime.fromtimestamp(expires, UTC)


class PhotoView:
    """A photo as the API shows it: its columns, plus links and grouped metadata."""

    def __init__(
        self,
        photo: Photo,
        renditions: list[PhotoDerivative],
        linker: Linker,
        *,
        staff: bool,
        served_as: str | None = None,
    ) -> None:
        self._photo = photo
        self.derivatives = [_linked(linker, photo, row) for row in renditions]
        original_type = served_as or photo.content_type
        ready = staff and photo.state == "ready"
        self.original = _original(linker, photo, original_type) if ready else None
        self.location = (
            {"lat": photo.gps_lat, "lon": photo.gps_lon, "alt": photo.gps_alt}
            if staff and photo.gps_lat is not None
            else None
        )
        self.placeholder = (
            {"blurhash": photo.blurhash, "color": photo.dominant_color}
            if photo.blurhash is not None
            else None
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._photo, name)


def list_order_photos(
    session: Session,
    actor: Actor,
    linker: Linker,
    work_order_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> Page:
    """An order's photos, oldest first (as :func:`list_evidence`), with their links."""
    page = list_evidence(session, actor, work_order_id, Photo, limit=limit, cursor=cursor)
    return Page(present(session, actor, linker, page.items), page.next_cursor)


def list_asset_photos(
    session: Session,
    actor: Actor,
    linker: Linker,
    asset_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> Page:
    """Photos of an asset, from every order the actor may open, oldest first."""
    access_asset(session, actor, asset_id)
    orders = select(WorkOrder.id).where(
        WorkOrder.tenant_id == actor.tenant_id, scoping.work_orders(actor)
    )
    stmt = visible(actor, Photo).where(Photo.asset_id == asset_id, Photo.work_order_id.in_(orders))
    page = paginate(session, stmt, Photo.id, limit=limit, cursor=cursor, after=Photo.occurred_at)
    return Page(present(session, actor, linker, page.items), page.next_cursor)


def list_note_photos(
    session: Session,
    actor: Actor,
    linker: Linker,
    work_order_id: uuid.UUID,
    note_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> Page:
    """The photos that illustrate a note (``attach_photo`` with its ``note_id``), oldest
    first; 404 ``evidence.not_found`` for a note the actor may not read."""
    access_note(session, actor, work_order_id, note_id)
    stmt = visible(actor, Photo).where(
        Photo.work_order_id == work_order_id, Photo.note_id == note_id
    )
    page = paginate(session, stmt, Photo.id, limit=limit, cursor=cursor, after=Photo.occurred_at)
    return Page(present(session, actor, linker, page.items), page.next_cursor)


def present(
    session: Session, actor: Actor, linker: Linker, photos: list[Photo] | Any
) -> list[PhotoView]:
    renditions = derivatives_of(session, [photo.id for photo in photos])
    staff = actor.role is not Role.CUSTOMER_CONTACT
    served_as = _validated_types(session, actor.tenant_id, {photo.sha256 for photo in photos})
    return [
        PhotoView(
            photo, renditions[photo.id], linker, staff=staff, served_as=served_as.get(photo.sha256)
        )
        for photo in photos
    ]


def _validated_types(session: Session, tenant_id: uuid.UUID, hashes: set[str]) -> dict[str, str]:
    """The image type each original's bytes were validated as on upload (``sync_blobs``):
    what a link serves them as, whatever type the device declared for the photo."""
    if not hashes:
        return {}
    rows = session.execute(
        select(SyncBlob.sha256, SyncBlob.content_type).where(
            SyncBlob.tenant_id == tenant_id, SyncBlob.sha256.in_(hashes)
        )
    )
    return {sha256: content_type for sha256, content_type in rows}


@dataclass(frozen=True)
class LinkedBytes:
    link: BlobLink
    stream: BinaryIO  # the caller closes it (Flask's send_file does)


def open_link(store: BlobStore, signer: LinkSigner, token: str) -> LinkedBytes:
    """The bytes a link stands for: 403 ``media.link_expired``, 404 ``media.link_invalid``."""
    try:
        link = signer.verify(token, time.time())
    except LinkExpired:
        raise MediaLinkExpired() from None
    except LinkRefused:
        raise MediaLinkInvalid() from None
    try:
        return LinkedBytes(link, store.open(link.tenant_id, link.sha256))
    except BlobMissing:
        raise MediaLinkInvalid("The bytes behind this link are gone") from None


def _linked(linker: Linker, photo: Photo, row: PhotoDerivative) -> LinkedBlob:
    url, expires_at = linker.link(
        photo.tenant_id,
        row.sha256,
        row.kind,
        row.content_type,
        f"photo-{photo.id}-{row.kind}.webp",
    )
    return LinkedBlob(row.kind, row.content_type, row.width, row.height, row.size, url, expires_at)


def _original(linker: Linker, photo: Photo, content_type: str) -> LinkedBlob:
    extension = _EXTENSIONS.get(content_type, "bin")
    url, expires_at = linker.link(
        photo.tenant_id,
        photo.sha256,
        "original",
        content_type,
        f"photo-{photo.id}.{extension}",
    )
    return LinkedBlob(
        "original", content_type, photo.width, photo.height, photo.size, url, expires_at
    )


def read_photo(
    session: Session, actor: Actor, linker: Linker, work_order_id: uuid.UUID, photo_id: uuid.UUID
) -> PhotoView:
    """One photo as the lists show it (404 ``photo.not_found`` as :func:`access_photo`)."""
    return present(session, actor, linker, [access_photo(session, actor, work_order_id, photo_id)])[
        0
    ]
