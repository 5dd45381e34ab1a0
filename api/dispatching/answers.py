"""A technician answers an offer online: one unit of work around
:func:`api.dispatching.offers.answer_offer` (the sync mutation calls that directly)."""

from __future__ import annotations

import uuid

from api.auth.actor import Actor
from api.db import UnitOfWork, utcnow
from api.dispatching.models import Offer
from api.dispatching.offers import Answer, answer_offer
from api.errors.base import FieldProblem
from api.errors.common import ValidationFailed
from api.sync import clock as sync_clock
from dispatch.routing import Router


def answer(
    uow: UnitOfWork,
    actor: Actor,
    offer_id: uuid.UUID,
    *,
    accept: bool,
    reason: str | None,
    expected_version: int,
    router: Router,
) -> Offer:
    if not accept and not (reason or "").strip():
        raise ValidationFailed(errors=[FieldProblem("reason", "required", "Say why you decline")])
    with uow:
        offer = answer_offer(
            uow.session,
            actor,
            offer_id,
            Answer(accept, reason, utcnow(), sync_clock.now()),
            expected_version,
            router,
        )
        uow.commit()
        return offer
