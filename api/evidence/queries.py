"""Reading a work order's evidence (photos, parts, readings, time entries): tenant- and
role-scoped, ``select()`` only.

Whoever may open the order may list its evidence (staff see everything, voided
items included, with who voided them and why). Customer contacts see, like for
notes, only items whose ``visibility`` is ``customer`` and that were not voided.
Each kind has its default visibility (see :mod:`api.evidence.models`): parts fitted
and readings of their equipment are shown to the customer, time entries (staff
accounting) and photos (people, other equipment) are not.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.auth.permissions import Role
from api.evidence.errors import EvidenceNotFound, PhotoNotFound
from api.evidence.models import PartUsed, Photo, Reading, TimeEntry
from api.http.pagination import Page, paginate
from api.workorders.models import Note
from api.workorders.queries import access_work_order
from api.workorders.states import NoteVisibility

EvidenceModel = type[PartUsed] | type[Reading] | type[TimeEntry] | type[Photo]


def list_evidence(
    session: Session,
    actor: Actor,
    work_order_id: uuid.UUID,
    model: EvidenceModel,
    *,
    limit: int,
    cursor: str | None,
) -> Page:
    """One kind of evidence of an order, oldest first by when it was recorded (``occurred_at``)."""
    access_work_order(session, actor, work_order_id)
    stmt = visible(actor, model).where(model.work_order_id == work_order_id)
    return paginate(session, stmt, model.id, limit=limit, cursor=cursor, after=model.occurred_at)


def access_photo(
    session: Session, actor: Actor, work_order_id: uuid.UUID, photo_id: uuid.UUID
) -> Photo:
    """The photo if this actor may see it on this order; otherwise 404, whether or not
    it exists (in another order, another tenant, or hidden from a customer)."""
    access_work_order(session, actor, work_order_id)
    stmt = visible(actor, Photo).where(Photo.work_order_id == work_order_id, Photo.id == photo_id)
    photo: Photo | None = session.scalars(stmt).one_or_none()
    if photo is None:
        raise PhotoNotFound()
    return photo


def access_note(
    session: Session, actor: Actor, work_order_id: uuid.UUID, note_id: uuid.UUID
) -> Note:
    """The note if this actor may read it on this order (customer contacts: customer
    notes not voided); otherwise 404 ``evidence.not_found``, whether or not it exists."""
    access_work_order(session, actor, work_order_id)
    stmt = select(Note).where(
        Note.tenant_id == actor.tenant_id, Note.work_order_id == work_order_id, Note.id == note_id
    )
    if actor.role is Role.CUSTOMER_CONTACT:
        stmt = stmt.where(
            Note.visibility == NoteVisibility.CUSTOMER.value, Note.voided_at.is_(None)
        )
    note: Note | None = session.scalars(stmt).one_or_none()
    if note is None:
        raise EvidenceNotFound("No such note on this work order")
    return note


def visible(actor: Actor, model: EvidenceModel) -> Any:
    stmt = select(model).where(model.tenant_id == actor.tenant_id)
    if actor.role is Role.CUSTOMER_CONTACT:
        stmt = stmt.where(
            model.visibility == NoteVisibility.CUSTOMER.value, model.voided_at.is_(None)
        )
    return stmt
