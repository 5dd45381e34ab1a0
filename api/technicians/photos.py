"""Technicians' profile photos: uploaded, replaced, removed, and linked for reading.

A technician sets their own photo; the office (admins and dispatchers) sets anyone's
in their tenant. The bytes go through the media pipeline's checks before anything
is kept (:func:`api.sync.blobs.put_image`: type by magic bytes, Pillow's full
decode, pixel and polyglot limits), then become two square WebP portraits without
EXIF (:func:`media.derive.make_portraits`): ``small`` (96 px) for lists and map
markers, ``large`` (320 px) for the customer's tracking page. Staff read them
through the short-lived signed links of ``/v1/media``; the public tracking page
through its own link (:func:`tracking_photo`), which names nothing but the
tracking token.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.auth.actor import Actor
from api.db import UnitOfWork, utcnow
from api.errors.common import PermissionDenied
from api.evidence.photo_reads import Linker
from api.sync.blobs import put_image
from api.technicians.errors import NoTechnicianPhoto
from api.technicians.models import TechnicianPhoto
from api.technicians.queries import access_technician
from media.blobs import BlobStore
from media.derive import make_portraits

MAX_PHOTO_BYTES = 10 * 1024 * 1024
WEBP = "image/webp"


@dataclass(frozen=True)
class PhotoLinks:
    """Where a technician's portraits can be read, until ``expires_at``."""

    small_url: str
    large_url: str
    expires_at: datetime
    updated_at: datetime


def set_photo(
    uow: UnitOfWork, store: BlobStore, actor: Actor, technician_id: uuid.UUID, data: bytes
) -> TechnicianPhoto:
    """Check, keep and render the photo (replacing any earlier one); ``media.*`` 422 for
    what is not a whole JPEG, PNG, WebP or HEIC image, and nothing is kept then."""
    with uow:
        technician = access_technician(uow.session, actor, technician_id)
        _check_may_change(actor, technician.id)
    digest = hashlib.sha256(data).hexdigest()
    _, content_type = put_image(store, actor.tenant_id, digest, io.BytesIO(data), MAX_PHOTO_BYTES)
    kept = {}
    for portrait in make_portraits(data):
        sha = hashlib.sha256(portrait.data).hexdigest()
        store.put(actor.tenant_id, sha, io.BytesIO(portrait.data), len(portrait.data))
        kept[portrait.name] = sha
    with uow:
        session = uow.session
        access_technician(session, actor, technician_id)  # still there
        row = session.get(TechnicianPhoto, technician_id, with_for_update=True)
        before = None if row is None else row.sha256
        if row is None:
            row = TechnicianPhoto(tenant_id=actor.tenant_id, technician_id=technician_id)
            session.add(row)
        row.sha256, row.content_type = digest, content_type.value
        row.small_sha256, row.large_sha256 = kept["small"], kept["large"]
        row.updated_at, row.updated_by = utcnow(), actor.principal_id
        changes = {"photo_sha256": {"before": before, "after": digest}}
        audit.record(session, actor, "update", "technician", technician_id, changes)
        uow.commit()
        return row


def remove_photo(uow: UnitOfWork, actor: Actor, technician_id: uuid.UUID) -> None:
    """No photo from now on (404 ``technician.no_photo`` if there was none)."""
    with uow:
        session = uow.session
        technician = access_technician(session, actor, technician_id)
        _check_may_change(actor, technician.id)
        row = _photo(session, actor.tenant_id, technician.id)
        if row is None:
            raise NoTechnicianPhoto()
        session.delete(row)
        changes = {"photo_sha256": {"before": row.sha256, "after": None}}
        audit.record(session, actor, "update", "technician", technician_id, changes)
        uow.commit()


def read_photo(
    session: Session, actor: Actor, linker: Linker, technician_id: uuid.UUID
) -> PhotoLinks:
    """The portraits' links for anyone who may read the technician."""
    technician = access_technician(session, actor, technician_id)
    row = _photo(session, actor.tenant_id, technician.id)
    if row is None:
        raise NoTechnicianPhoto()
    return links(linker, row)


def links(linker: Linker, row: TechnicianPhoto) -> PhotoLinks:
    small, expires_at = linker.link(
        row.tenant_id, row.small_sha256, "small", WEBP, "technician-small.webp"
    )
    large, _ = linker.link(row.tenant_id, row.large_sha256, "large", WEBP, "technician.webp")
    return PhotoLinks(small, large, expires_at, row.updated_at)


def small_links(
    session: Session, linker: Linker, tenant_id: uuid.UUID, technician_ids: list[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The small portrait's link of each of ``technician_ids`` that has a photo (for a
    list or a map: one query)."""
    if not technician_ids:
        return {}
    rows = session.execute(
        select(TechnicianPhoto.technician_id, TechnicianPhoto.small_sha256).where(
            TechnicianPhoto.tenant_id == tenant_id,
            TechnicianPhoto.technician_id.in_(technician_ids),
        )
    )
    found = {}
    for technician_id, sha in rows:
        found[technician_id], _ = linker.link(
            tenant_id, sha, "small", WEBP, "technician-small.webp"
        )
    return found


def photo_of(
    session: Session, tenant_id: uuid.UUID, technician_id: uuid.UUID
) -> TechnicianPhoto | None:
    """The technician's photo row, if any (for the tracking page, which has no actor)."""
    return _photo(session, tenant_id, technician_id)


def _photo(
    session: Session, tenant_id: uuid.UUID, technician_id: uuid.UUID
) -> TechnicianPhoto | None:
    return session.scalars(
        select(TechnicianPhoto).where(
            TechnicianPhoto.tenant_id == tenant_id,
            TechnicianPhoto.technician_id == technician_id,
        )
    ).one_or_none()


def _check_may_change(actor: Actor, technician_id: uuid.UUID) -> None:
    """The office, or the technician themself; a teammate reads but does not change it."""
    if not (actor.is_office or actor.technician_id == technician_id):
        raise PermissionDenied()
