"""The offer chain's rule: only the qualified are offered, one at a time, and it ends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch import candidates as rules
from dispatch.offers import Done, Offer, OfferState, PastOffer, Queue, Wait, next_step

NOW = datetime(2026, 12, 4, 9, tzinfo=UTC)
PEOPLE = [uuid.UUID(int=n + 1) for n in range(8)]


def candidate(tech_id: uuid.UUID, score: float) -> rules.Candidate:
    tech = rules.Technician(
        tech_id, "t", True, {"hvac": 3}, [], {}, "Asia/Shanghai", 0, 8, 31.2, 121.5, "home"
    )
    return rules.Candidate(tech, score, 100.0, 1.0)


# Each round: who qualifies now (a subset of PEOPLE, best first), and how the pending
# offer ends (an accept, a decline or a timeout).
rounds = st.lists(
    st.tuples(
        st.lists(st.sampled_from(PEOPLE), unique=True, max_size=len(PEOPLE)),
        st.sampled_from([OfferState.ACCEPTED, OfferState.DECLINED, OfferState.EXPIRED]),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(rounds=rounds, limit=st.integers(min_value=1, max_value=5))
def test_offers_go_to_the_qualified_one_at_a_time_and_the_chain_ends(
    rounds: list[tuple[list[uuid.UUID], OfferState]], limit: int
) -> None:
    past: list[PastOffer] = []
    ended = False
    for qualified, outcome in rounds:
        ranked = [candidate(t, 100.0 - i) for i, t in enumerate(qualified)]
        step = next_step(past, ranked, max_declines=limit)
        if isinstance(step, Done | Queue):
            ended = True
            break
        assert isinstance(step, Offer)  # nothing pending between rounds: never Wait
        chosen = step.candidate.technician.id
        assert chosen in qualified  # never an ineligible technician
        assert chosen not in {p.technician_id for p in past}  # never twice
        assert step.attempt == len(past) + 1
        assert step.candidate is ranked[[c.technician.id for c in ranked].index(chosen)]
        # While it is pending, nothing else is offered: exactly one active offer.
        assert isinstance(
            next_step([*past, PastOffer(chosen, OfferState.PENDING)], ranked, max_declines=limit),
            Wait,
        )
        past.append(PastOffer(chosen, outcome))
        unanswered = sum(p.state is not OfferState.ACCEPTED for p in past)
        assert unanswered <= limit
    # The chain ends: within the limit of unanswered offers, or on the first accept.
    assert ended or len(past) == len(rounds)
    assert len(past) <= min(limit, len(PEOPLE))


def test_the_best_not_yet_offered_comes_next_and_a_limit_queues() -> None:
    a, b, c = PEOPLE[:3]
    ranked = [candidate(a, 90), candidate(b, 80), candidate(c, 70)]
    first = next_step([], ranked, max_declines=2)
    assert isinstance(first, Offer) and first.candidate.technician.id == a
    second = next_step([PastOffer(a, OfferState.DECLINED)], ranked, max_declines=2)
    assert isinstance(second, Offer) and second.candidate.technician.id == b
    stop = next_step(
        [PastOffer(a, OfferState.DECLINED), PastOffer(b, OfferState.EXPIRED)],
        ranked,
        max_declines=2,
    )
    assert isinstance(stop, Queue) and stop.code == "declined"
    nobody = next_step([PastOffer(a, OfferState.WITHDRAWN)], [candidate(a, 90)], max_declines=2)
    assert isinstance(nobody, Queue) and nobody.code == "no_candidate"
    assert isinstance(next_step([PastOffer(a, OfferState.ACCEPTED)], ranked, max_declines=2), Done)
