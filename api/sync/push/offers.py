"""``answer_offer`` (PROTOCOL.md § 8.9): a technician accepts or declines a job offered
to them, possibly long after, from an offline device.

The answer goes through :func:`api.dispatching.offers.answer_offer`, as an online
one does, dated at the device's time (§ 7.3): an accept counts if the device
took it before the offer's ``expires_at`` and the offer is still pending when
the push arrives (not yet timed out by the worker, nor withdrawn). Otherwise it
is refused with a code the device can show; the offer's row, pulled, says what
became of it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.dispatching import errors
from api.dispatching.offers import Answer, answer_offer
from api.errors.base import FieldlineError
from api.sync.push.orders import Done
from api.sync.push.writer import Writer
from sync_protocol.errors import ProtocolError
from sync_protocol.hlc import HLC
from sync_protocol.merge import Outcome
from sync_protocol.mutations import AnswerOffer, OfferAnswer

_CODES: dict[type[FieldlineError], str] = {
    errors.OfferNotFound: "sync.not_in_scope",
    errors.OfferClosed: "sync.offer_closed",
    errors.OfferExpired: "sync.offer_expired",
    errors.OfferIneligible: "sync.offer_ineligible",
}


def answer(session: Session, writer: Writer, args: AnswerOffer, hlc: HLC, sent: HLC) -> Done:
    answered = Answer(args.answer is OfferAnswer.ACCEPT, args.reason, writer.occurred_at(sent), hlc)
    try:
        offer = answer_offer(session, writer.actor, args.offer_id, answered)
    except tuple(_CODES) as error:
        raise ProtocolError(_CODES[type(error)], str(error), "args.offer_id") from None
    if offer.work_order_id != args.work_order_id:
        # Rolled back with the savepoint: the device named the offer of another order.
        raise ProtocolError("sync.not_in_scope", "No such offer for this order", "args.offer_id")
    return Done(Outcome.APPLIED, offer.id)
