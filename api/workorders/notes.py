"""Adding notes to a work order: append-only, with a visibility.

Internal notes are for staff; customer notes are also shown to the customer's
contacts, who may write only those. Anyone who can see an order (so a
technician only on their own assignments) may add a note to it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from api.audit import services as audit
from api.audit.changes import snapshot
from api.auth.actor import Actor
from api.auth.permissions import Role
from api.db import UnitOfWork, utcnow
from api.db.checks import ensure_unused_id
from api.errors.base import FieldProblem
from api.errors.common import ValidationFailed
from api.workorders.models import Note
from api.workorders.queries import access_work_order
from api.workorders.states import NoteVisibility


def add_note(
    uow: UnitOfWork, actor: Actor, work_order_id: uuid.UUID, data: Mapping[str, Any]
) -> Note:
    with uow:
        session = uow.session
        order = access_work_order(session, actor, work_order_id)
        is_customer = actor.role is Role.CUSTOMER_CONTACT
        default = NoteVisibility.CUSTOMER if is_customer else NoteVisibility.INTERNAL
        visibility = NoteVisibility(data.get("visibility") or default)
        if is_customer and visibility is not NoteVisibility.CUSTOMER:
            raise ValidationFailed(
                errors=[FieldProblem("visibility", "not_allowed", "Customers write customer notes")]
            )
        ensure_unused_id(session, Note, data.get("id"))
        now = utcnow()
        note = Note(
            tenant_id=actor.tenant_id,
            work_order_id=order.id,
            body=data["body"],
            visibility=visibility.value,
            author_kind=actor.kind,
            author_id=actor.principal_id,
            created_at=now,
            occurred_at=now,
        )
        if data.get("id"):
            note.id = data["id"]
        session.add(note)
        session.flush()  # the note id, for the audit event
        fields = ("work_order_id", "visibility", "body")
        audit.record(session, actor, "create", "work_order_note", note.id, snapshot(note, fields))
        uow.commit()
        return note
