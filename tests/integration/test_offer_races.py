"""An accept racing the timeout of the same offer: exactly one of them wins, every time.

Both run at once in their own threads and transactions, at the offer's expiry
instant (an accept at ``expires_at`` is in time; a sweep at ``expires_at``
finds it due). Whichever commits first decides; the other sees its result: an
accepted offer is never also expired and passed on, and an expired one never
assigns its technician. On PostgreSQL the order's row lock serialises them; on
SQLite, ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from api.db import UnitOfWorkFactory, utcnow
from api.dispatching import errors
from api.dispatching.models import Dispatch, Offer
from api.dispatching.offer_sweep import expire_offers
from api.dispatching.offers import Answer, answer_offer
from api.outbox.registry import HANDLERS
from api.outbox.worker import run_once
from api.sync import clock as sync_clock
from api.tenants import settings
from api.workorders.models import WorkOrder
from tests.support.factories import Factories
from tests.support.positions import ALWAYS, LAT, LON

ROUNDS = 8


@dataclass
class Outcome:
    accepted: bool = False
    refused: str | None = None
    expired: int = 0
    errors: list[BaseException] = field(default_factory=list)


def _race(uow_factory: UnitOfWorkFactory, actor: Any, offer: Offer) -> Outcome:
    outcome = Outcome()
    start = threading.Barrier(2)
    at = offer.expires_at

    def accept() -> None:
        start.wait()
        try:
            with uow_factory() as uow:
                answer_offer(uow.session, actor, offer.id, Answer(True, None, at, sync_clock.now()))
                uow.commit()
            outcome.accepted = True
        except (errors.OfferClosed, errors.OfferExpired) as refused:
            outcome.refused = refused.code
        except BaseException as failure:  # surfaced below, not swallowed by the thread
            outcome.errors.append(failure)

    def timeout() -> None:
        start.wait()
        try:
            outcome.expired = expire_offers(uow_factory, at)
        except BaseException as failure:
            outcome.errors.append(failure)

    threads = [threading.Thread(target=accept), threading.Thread(target=timeout)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcome


def test_an_accept_racing_the_timeout_has_exactly_one_winner(
    factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    settings.set_settings(
        uow_factory(),
        world.admin_actor,
        {"dispatch_mode": "offer", "offer_timeout_s": 60, "offer_max_declines": 3},
        settings.DISPATCH_FIELDS,
    )
    people = [
        factories.technician(
            world,
            working_hours=ALWAYS,
            skills=[{"skill": "hvac", "level": 3}],
            home_base={"address": "家", "position": {"lat": LAT, "lon": LON + n / 200}},
        )
        for n in range(2)
    ]
    actors = {p.id: factories.technician_actor(world, p) for p in people}
    seen = set()
    for _ in range(ROUNDS):
        order = factories.work_order(world)
        while run_once(uow_factory, HANDLERS):
            pass
        expiry = utcnow() + timedelta(seconds=5)
        with uow_factory() as uow:  # the offer falls due at a known instant
            uow.session.execute(
                update(Offer).where(Offer.work_order_id == order.id).values(expires_at=expiry)
            )
            uow.commit()
            offer = uow.session.scalars(select(Offer).where(Offer.work_order_id == order.id)).one()

        outcome = _race(uow_factory, actors[offer.technician_id], offer)

        assert outcome.errors == []
        assert outcome.accepted != bool(outcome.expired)  # one winner, never both or neither
        with uow_factory() as uow:
            row = uow.session.get_one(WorkOrder, order.id)
            offers = uow.session.scalars(
                select(Offer).where(Offer.work_order_id == order.id).order_by(Offer.attempt)
            ).all()
            dispatch = uow.session.get_one(Dispatch, order.id)
            states = [(o.technician_id, o.state) for o in offers]
        if outcome.accepted:
            seen.add("accept")
            assert states == [(offer.technician_id, "accepted")]
            assert (row.status.value, row.assignee_id) == ("accepted", offer.technician_id)
            assert dispatch.state == "assigned"
        else:
            seen.add("timeout")
            assert outcome.refused == "offer.closed"
            other = next(p.id for p in people if p.id != offer.technician_id)
            assert states == [(offer.technician_id, "expired"), (other, "pending")]
            assert (row.status.value, row.assignee_id) == ("new", None)
    assert seen  # (which side wins is up to the scheduler; each round has one winner)
