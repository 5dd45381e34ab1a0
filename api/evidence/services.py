"""Evidence use cases: the office chooses what the customer is shown, and annotates photos.

Evidence itself is append-only and added by devices through sync. Its
``visibility`` is not content but a sharing decision, so the office may change
it (audited). It is the server's alone (not in synced row images), so no device
write can race it: the last choice stands, and no ``If-Match`` is needed.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import delete, select, update

from api.audit import services as audit
from api.audit.changes import apply_changes, jsonable
from api.auth.actor import Actor
from api.db import UnitOfWork
from api.evidence.errors import EvidenceNotFound, PhotoNotFound
from api.evidence.models import PartUsed, Photo, PhotoDerivative, Reading, TimeEntry
from api.evidence.pipeline import ANNOTATED, queue_processing
from api.evidence.queries import EvidenceModel, access_photo
from api.workorders.queries import access_work_order
from api.workorders.states import NoteVisibility

Item = TypeVar("Item", PartUsed, Reading, TimeEntry, Photo)

_AUDITED_AS: dict[EvidenceModel, str] = {
    PartUsed: "work_order_part",
    Reading: "work_order_reading",
    TimeEntry: "work_order_time_entry",
    Photo: "work_order_photo",
}


def set_visibility(
    uow: UnitOfWork,
    actor: Actor,
    work_order_id: uuid.UUID,
    model: type[Item],
    item_id: uuid.UUID,
    visibility: NoteVisibility,
) -> Item:
    with uow:
        session = uow.session
        access_work_order(session, actor, work_order_id)
        item = session.scalars(
            select(model).where(
                model.tenant_id == actor.tenant_id,
                model.work_order_id == work_order_id,
                model.id == item_id,
            )
        ).one_or_none()
        if item is None:
            raise PhotoNotFound() if model is Photo else EvidenceNotFound()
        diff = apply_changes(item, {"visibility": visibility.value}, {"visibility"})
        audit.record(
            session, actor, "update", _AUDITED_AS[model], item.id, diff, work_order_id=work_order_id
        )
        uow.commit()
        return item


def annotate_photo(
    uow: UnitOfWork,
    actor: Actor,
    work_order_id: uuid.UUID,
    photo_id: uuid.UUID,
    shapes: list[dict[str, Any]],
) -> None:
    """Replace a photo's annotations (audited) and have the worker render them.

    The stale ``annotated`` rendition goes in the same transaction, and the column
    is written with an UPDATE statement: annotations are the server's (not in the
    synced row image), and on PostgreSQL the statement waits for a pipeline job
    holding the photo, so the job that renders always reads the latest shapes.
    """
    with uow:
        session = uow.session
        photo = access_photo(session, actor, work_order_id, photo_id)
        before = photo.annotations or []
        if before == shapes:
            return
        session.execute(
            update(Photo).where(Photo.id == photo.id).values(annotations=shapes or None)
        )
        session.execute(
            delete(PhotoDerivative).where(
                PhotoDerivative.photo_id == photo.id, PhotoDerivative.kind == ANNOTATED
            )
        )
        diff = {"annotations": {"before": jsonable(before), "after": jsonable(shapes)}}
        audit.record(session, actor, "update", "work_order_photo", photo.id, diff)
        if shapes:
            queue_processing(session, actor.tenant_id, photo.id)
        uow.commit()
