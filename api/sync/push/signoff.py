"""The ``sign_off`` mutation (PROTOCOL.md § 8.7): the online use case, worded as receipts.

Runs in the mutation's savepoint (the unique order constraint may speak at
flush). A replay of the same sign-off is ``duplicate``; a second sign-off for
an order that has one is ``rejected`` ``sync.already_signed`` and quarantined
with its whole drawing, so nothing the customer drew is lost; a bad drawing
is ``sync.invalid_signature`` with the stroke validator's reason and path.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.signoff.errors import SignOffAlreadyRecorded, SignOffIdTaken
from api.signoff.services import record_sign_off
from api.sync.push.access import order_for_update
from api.sync.push.orders import Done
from api.sync.push.writer import Writer
from signatures.strokes import StrokeError
from sync_protocol.errors import ProtocolError
from sync_protocol.hlc import HLC
from sync_protocol.merge import Outcome
from sync_protocol.mutations import SignOff


def sign_off(session: Session, writer: Writer, args: SignOff, hlc: HLC, sent: HLC) -> Done:
    order = order_for_update(session, writer, args.work_order_id, sent, "args.work_order_id")
    try:
        recorded = record_sign_off(
            session,
            writer.actor,
            order,
            args,
            device_id=writer.device_id,
            hlc=str(hlc),
            occurred_at=writer.occurred_at(sent),
        )
    except StrokeError as refused:
        field = f"args.drawing.{refused.field}" if refused.field else "args.drawing"
        detail = f"{refused.code}: {refused.message}"
        raise ProtocolError("sync.invalid_signature", detail, field) from None
    except SignOffAlreadyRecorded:
        raise ProtocolError(
            "sync.already_signed", "The order already has a sign-off", "args.work_order_id"
        ) from None
    except SignOffIdTaken:
        raise ProtocolError("sync.id_reused", "This ID names another sign-off", "args.id") from None
    if recorded.replayed:
        return Done(Outcome.DUPLICATE, order.id, detail="Already recorded")
    return Done(Outcome.APPLIED, order.id)
