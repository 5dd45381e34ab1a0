"""Offering a job to one technician at a time: what happens next, as a pure rule.

Auto-dispatch in ``offer`` mode walks the ranked candidates: the best one gets an
offer; they accept, decline (with a reason) or let it time out; then the next
best gets one. After ``max_declines`` offers that ended without an acceptance
the order goes to the dispatcher's queue with the reason, and so it does when no
qualified technician is left. :func:`next_step` decides this from facts the
caller loaded; the caller carries it out (``api/autodispatch``) and the database
enforces what must never happen twice (one pending offer per order, one offer
per order and attempt, one offer per order and technician).

Why the chain always ends: every step either waits on the one pending offer
(which ends by answer or timeout), or makes an offer to a technician never
offered this order before (finitely many), or stops.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from dispatch.candidates import Candidate


class OfferState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"  # the timeout passed without an answer
    WITHDRAWN = "withdrawn"  # the office assigned or cancelled the order meanwhile


# Offers that ended without the technician taking the job: they count towards the limit.
UNANSWERED = frozenset({OfferState.DECLINED, OfferState.EXPIRED})


class Mode(StrEnum):
    OFF = "off"  # nothing happens on its own
    SUGGEST = "suggest"  # the best candidate is recorded for the dispatcher to confirm
    OFFER = "offer"  # offered to the best candidate, then the next (this module)
    AUTO = "auto"  # assigned to the best candidate at once


@dataclass(frozen=True)
class PastOffer:
    technician_id: uuid.UUID
    state: OfferState


@dataclass(frozen=True)
class Wait:
    """An offer is pending: its answer or its timeout decides."""


@dataclass(frozen=True)
class Offer:
    candidate: Candidate
    attempt: int  # 1 for the first offer of the order


@dataclass(frozen=True)
class Queue:
    """The dispatcher decides: ``reason`` says why the chain stopped."""

    reason: str
    code: str  # "declined" (the limit was reached) or "no_candidate"


@dataclass(frozen=True)
class Done:
    """The order is taken: an offer was accepted (or the office acted)."""


Step = Wait | Offer | Queue | Done


def next_step(
    offers: Sequence[PastOffer], ranked: Sequence[Candidate], *, max_declines: int
) -> Step:
    """The next step for an order still open to offers.

    ``offers``: every offer the order had, any order; ``ranked``: its qualified
    candidates now, best first (hard filters already applied: nobody else is ever
    offered the job)."""
    states = [offer.state for offer in offers]
    if OfferState.ACCEPTED in states:
        return Done()
    if OfferState.PENDING in states:
        return Wait()
    unanswered = sum(state in UNANSWERED for state in states)
    if unanswered >= max_declines:
        return Queue(
            f"{unanswered} offers declined or unanswered (the limit is {max_declines})",
            "declined",
        )
    offered = {offer.technician_id for offer in offers}
    for candidate in ranked:
        if candidate.technician.id not in offered:
            return Offer(candidate, len(offers) + 1)
    if offers:
        return Queue(f"no other qualified technician after {len(offers)} offers", "no_candidate")
    return Queue("no qualified technician available", "no_candidate")
