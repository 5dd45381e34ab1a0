"""Evidence use cases: the office chooses what the customer is shown.

Evidence itself is append-only and added by devices through sync. Its
``visibility`` is not content but a sharing decision, so the office may change
it (audited). It is the server's alone (not in synced row images), so no device
write can race it: the last choice stands, and no ``If-Match`` is needed.
"""

from __future__ import annotations

import uuid
from typing import TypeVar

from sqlalchemy import select

from api.audit import services as audit
from api.audit.changes import apply_changes
from api.auth.actor import Actor
from api.db import UnitOfWork
from api.evidence.errors import EvidenceNotFound, PhotoNotFound
from api.evidence.models import PartUsed, Photo, Reading, TimeEntry
from api.evidence.queries import EvidenceModel
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
