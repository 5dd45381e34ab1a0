"""Recording a sign-off: the customer's signature or their refusal, once per order.

One function serves the online endpoint and the sync push, so a signature taken
offline is stored, audited and refused exactly as one taken online. The drawing
is validated by :mod:`signatures.strokes` (a :class:`~signatures.strokes.StrokeError`
reaches the caller, which words it for its channel). A sign-off is immutable:
the same ID with the same content again is a replay; anything else on an order
that has one is :class:`SignOffAlreadyRecorded`.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.auth.actor import Actor
from api.db import UnitOfWork, new_id, utcnow
from api.errors.base import FieldProblem
from api.errors.common import ValidationFailed
from api.signoff.errors import SignOffAlreadyRecorded, SignOffIdTaken
from api.signoff.models import WorkOrderSignOff
from api.workorders.models import WorkOrder
from api.workorders.queries import access_work_order
from signatures.strokes import Drawing, StrokeError, read_drawing
from sync_protocol.mutations import Position, SignOff, SignOffOutcome
from sync_protocol.wire import canonical_json

AUDITED_FIELDS = ("work_order_id", "outcome", "signer_name", "signer_role", "signature_sha256")


@dataclass(frozen=True)
class Recorded:
    row: WorkOrderSignOff
    replayed: bool  # the same sign-off was already stored


def sign_off_online(
    uow: UnitOfWork, actor: Actor, work_order_id: uuid.UUID, data: Mapping[str, Any]
) -> WorkOrderSignOff:
    """The online endpoint: the same arguments as the ``sign_off`` mutation."""
    position = data.get("position")
    args = SignOff(
        data.get("id") or new_id(),
        work_order_id,
        SignOffOutcome(data["outcome"]),
        data["signer_name"],
        data.get("signer_role"),
        data.get("consent_text"),
        data.get("refusal_reason"),
        data.get("drawing"),
        Position(position["lat"], position["lon"], position.get("accuracy_m"))
        if position
        else None,
    )
    with uow:
        order = access_work_order(uow.session, actor, work_order_id, for_update=True)
        try:
            recorded = record_sign_off(
                uow.session, actor, order, args, device_id=None, hlc=None, occurred_at=utcnow()
            )
        except StrokeError as refused:
            field = f"drawing.{refused.field}" if refused.field else "drawing"
            problem = FieldProblem(field, f"signature_{refused.code}", refused.message)
            raise ValidationFailed(errors=[problem]) from None
        uow.commit()
        return recorded.row


def record_sign_off(
    session: Session,
    actor: Actor,
    order: WorkOrder,
    args: SignOff,
    *,
    device_id: uuid.UUID | None,
    hlc: str | None,
    occurred_at: datetime,
) -> Recorded:
    """Store ``args`` on ``order`` (already access-checked and locked by the caller)."""
    # First: a drawing with inf or a million points must not reach hashing or the database.
    drawing = read_drawing(dict(args.drawing)) if args.drawing is not None else None
    digest = hashlib.sha256(canonical_json(args.to_json())).hexdigest()
    same_id = session.scalars(
        select(WorkOrderSignOff).where(WorkOrderSignOff.id == args.id)
    ).one_or_none()
    if same_id is not None:
        if (same_id.tenant_id, same_id.work_order_id, same_id.content_digest) == (
            order.tenant_id,
            order.id,
            digest,
        ):
            return Recorded(same_id, replayed=True)
        raise SignOffIdTaken()
    taken = session.scalar(
        select(WorkOrderSignOff.id).where(
            WorkOrderSignOff.tenant_id == order.tenant_id,
            WorkOrderSignOff.work_order_id == order.id,
        )
    )
    if taken is not None:
        raise SignOffAlreadyRecorded()
    row = _new_row(actor, order, args, drawing, digest, device_id, hlc, occurred_at)
    session.add(row)
    session.flush()  # the unique constraint speaks now, not at commit
    audit.record(
        session,
        actor,
        "create",
        "work_order_signoff",
        row.id,
        {name: {"after": _plain(getattr(row, name))} for name in AUDITED_FIELDS},
    )
    return Recorded(row, replayed=False)


def _new_row(
    actor: Actor,
    order: WorkOrder,
    args: SignOff,
    drawing: Drawing | None,
    digest: str,
    device_id: uuid.UUID | None,
    hlc: str | None,
    occurred_at: datetime,
) -> WorkOrderSignOff:
    position = args.position
    return WorkOrderSignOff(
        id=args.id,
        tenant_id=order.tenant_id,
        work_order_id=order.id,
        outcome=args.outcome.value,
        signer_name=args.signer_name,
        signer_role=args.signer_role,
        consent_text=args.consent_text,
        refusal_reason=args.refusal_reason,
        drawing=drawing.to_json() if drawing else None,
        signature_sha256=drawing.sha256() if drawing else None,
        point_count=drawing.point_count if drawing else 0,
        gps_lat=position.lat if position else None,
        gps_lon=position.lon if position else None,
        gps_accuracy_m=position.accuracy_m if position else None,
        author_kind=actor.kind,
        author_id=actor.principal_id,
        device_id=device_id,
        hlc=hlc,
        content_digest=digest,
        occurred_at=occurred_at,
        created_at=utcnow(),
    )


def _plain(value: object) -> object:
    return str(value) if isinstance(value, uuid.UUID) else value
