"""Auto-dispatch: the tenant's policy applied to a new order, and the offer chain.

:func:`dispatch_order` is the worker's handler body for
``work_order.dispatch_requested`` (published when an order is created): by the
tenant's ``dispatch_mode`` it records the best candidate for the dispatcher
(``suggest``), assigns them (``auto``), or offers them the job (``offer``).
:func:`advance` takes the offer chain one step (:func:`dispatch.offers.next_step`)
after a decline, a timeout (:mod:`api.dispatching.offer_sweep`) or the first
request; :func:`answer_offer` is a technician's accept or decline, online or
synced from an offline device.

Concurrency: every path locks the order row first (``FOR UPDATE`` on
PostgreSQL; SQLite writers are serialised by ``BEGIN IMMEDIATE``), then reads
or changes its offers, so an accept and a timeout of the same offer queue up
and the second sees the first's result. The unique keys of
:mod:`api.dispatching.models` are the backstop. Who may be offered or assigned
is decided by :func:`dispatch.candidates.exclusion` only, at offer time and
again at acceptance: nobody unqualified or off shift gets the job. For an order
with a requested window still to come, "on shift" means on shift for the job in
that window (``auto`` and ``suggest`` look no further); an offer also needs the
technician on shift now, since it must be answered within minutes, and its
acceptance is checked against the window.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.auth.actor import Actor, system_actor
from api.db import utcnow
from api.db.checks import check_version
from api.dispatching import errors, services
from api.dispatching.models import Dispatch, Offer
from api.outbox.services import publish
from api.sites.models import Site
from api.sync import clock as sync_clock
from api.technicians.models import Technician
from api.tenants.models import Tenant
from api.workorders import queries
from api.workorders import rules as order_rules
from api.workorders.models import WorkOrder
from api.workorders.states import Status
from api.workorders.transitions import carry_out
from dispatch import candidates as rules
from dispatch import offers as chain
from dispatch.routing import Router, StraightLine
from sync_protocol.hlc import HLC

TOPIC_OFFERED = "work_order.offered"
STRAIGHT = StraightLine()  # travel times when no routing engine is configured


@dataclass(frozen=True)
class Answer:
    accept: bool
    reason: str | None
    occurred_at: datetime  # when the technician answered (the device's time, if synced)
    hlc: HLC


def dispatch_order(
    session: Session,
    tenant_id: uuid.UUID,
    order_id: uuid.UUID,
    mode: chain.Mode,
    router: Router = STRAIGHT,
) -> None:
    """Apply the dispatch policy ``mode`` (the tenant's when the order was created) to a
    new order, once (the dispatch row's key)."""
    order = lock_order(session, tenant_id, order_id)
    tenant = session.get_one(Tenant, tenant_id)
    if order is None or mode is chain.Mode.OFF or session.get(Dispatch, order.id) is not None:
        return  # gone, switched off since, or already dispatched (a re-run message)
    now = utcnow()
    dispatch = Dispatch(
        tenant_id=tenant_id,
        work_order_id=order.id,
        mode=mode.value,
        state="offering",
        created_at=now,
        updated_at=now,
    )
    session.add(dispatch)
    if order.status is not Status.NEW or order.assignee_id is not None:
        dispatch.state = "stopped"  # the office was quicker
        return
    if mode is chain.Mode.OFFER:
        advance(session, order, dispatch, tenant, now, router)
        return
    ranked = rank(session, order, now, router)
    if not ranked:
        queue(session, order, dispatch, _nobody(ranked), now)
        return
    best = ranked[0]
    if mode is chain.Mode.SUGGEST:
        dispatch.state = "suggested"
        dispatch.suggested_technician_id = best.technician.id
        _audit(
            session,
            order,
            "dispatch_suggest",
            {"technician_id": str(best.technician.id), "score": best.score},
        )
        return
    _assign(session, order, best.technician.id, f"auto-dispatch: best candidate ({best.score})")
    dispatch.state = "assigned"


def advance(
    session: Session,
    order: WorkOrder,
    dispatch: Dispatch,
    tenant: Tenant,
    now: datetime,
    router: Router = STRAIGHT,
) -> None:
    """Take the offer chain one step; the caller holds the order's lock."""
    if order.status is not Status.NEW or order.assignee_id is not None:
        dispatch.state, dispatch.updated_at = "stopped", now
        return
    offers = offers_of(session, order)
    past = [chain.PastOffer(o.technician_id, chain.OfferState(o.state)) for o in offers]
    if any(p.state is chain.OfferState.PENDING for p in past):
        return  # its answer or its timeout comes back here
    ranked = rank(session, order, now, router, answering_now=True)
    step: chain.Step = (
        _nobody(ranked)
        if ranked is None
        else chain.next_step(past, ranked, max_declines=tenant.offer_max_declines)
    )
    if isinstance(step, chain.Offer):
        make_offer(session, order, step, now + timedelta(seconds=tenant.offer_timeout_s), now)
        dispatch.state, dispatch.updated_at = "offering", now
    elif isinstance(step, chain.Queue):
        queue(session, order, dispatch, step, now)


def make_offer(
    session: Session, order: WorkOrder, step: chain.Offer, expires_at: datetime, now: datetime
) -> Offer:
    candidate = step.candidate
    site = session.get_one(Site, order.site_id)
    offer = Offer(
        tenant_id=order.tenant_id,
        work_order_id=order.id,
        technician_id=candidate.technician.id,
        attempt=step.attempt,
        state="pending",
        number=order.number,
        title=order.title,
        site_address=site.address,
        distance_m=round(candidate.distance_m),
        travel_s=round(candidate.travel_minutes * 60),
        score=candidate.score,
        offered_at=now,
        expires_at=expires_at,
    )
    session.add(offer)
    session.flush()  # the unique keys speak now (a racing worker), and the id is needed
    _audit(
        session,
        order,
        "offer",
        {
            "offer_id": str(offer.id),
            "attempt": step.attempt,
            "technician_id": str(candidate.technician.id),
            "score": candidate.score,
            "parts": candidate.parts,
        },
    )
    user_id = session.scalar(
        select(Technician.user_id).where(Technician.id == candidate.technician.id)
    )
    publish(
        session,
        order.tenant_id,
        TOPIC_OFFERED,
        {
            "tenant_id": order.tenant_id,
            "offer_id": offer.id,
            "work_order_id": order.id,
            "number": order.number,
            "title": order.title,
            "user_id": user_id,
            "expires_at": expires_at,
        },
    )
    return offer


def queue(
    session: Session, order: WorkOrder, dispatch: Dispatch, step: chain.Queue, now: datetime
) -> None:
    """Hand the order to the dispatcher's queue, saying why."""
    dispatch.state, dispatch.updated_at = "queued", now
    dispatch.reason, dispatch.reason_code = step.reason, step.code
    _audit(session, order, "dispatch_queue", {"reason": step.reason, "code": step.code})


def answer_offer(
    session: Session,
    actor: Actor,
    offer_id: uuid.UUID,
    answer: Answer,
    expected_version: int | None = None,
    router: Router = STRAIGHT,
) -> Offer:
    """A technician's accept or decline of their own offer (the caller's unit commits)."""
    found = access_own_offer(session, actor, offer_id)
    order = lock_order(session, actor.tenant_id, found.work_order_id)
    offer = _lock_offer(session, found.id)
    if expected_version is not None:
        check_version(offer, expected_version)
    if order is None or offer.state != "pending":
        raise errors.OfferClosed(extra={"state": offer.state})
    now = utcnow()
    if not answer.accept:
        offer.state, offer.answered_at, offer.reason = "declined", answer.occurred_at, answer.reason
        _audit(
            session, order, "offer_decline", {"offer_id": str(offer.id), "reason": answer.reason}
        )
        dispatch = session.get(Dispatch, order.id)
        if dispatch is not None:
            advance(session, order, dispatch, session.get_one(Tenant, order.tenant_id), now, router)
        return offer
    if answer.occurred_at > offer.expires_at:
        raise errors.OfferExpired(extra={"expires_at": offer.expires_at.isoformat()})
    if order.status is not Status.NEW or order.assignee_id is not None:
        raise errors.OfferClosed(extra={"state": offer.state})
    failed = still_excluded(session, order, offer.technician_id, now)
    if failed is not None:
        raise errors.OfferIneligible(failed[1], extra={"filter": failed[0]})
    offer.state, offer.answered_at = "accepted", answer.occurred_at
    _assign(session, order, offer.technician_id, "offer accepted", answer.occurred_at, answer.hlc)
    plan = order_rules.plan_transition(
        order.status,
        order_rules.Action.ACCEPT,
        actor.role,
        is_assignee=queries.is_assignee(actor, order),
        has_assignee=True,
    )
    carry_out(session, actor, order, plan, {"action": "accept"}, answer.hlc, answer.occurred_at)
    dispatch = session.get(Dispatch, order.id)
    if dispatch is not None:
        dispatch.state, dispatch.updated_at = "assigned", now
    return offer


def expire_offer(session: Session, offer: Offer, now: datetime, router: Router = STRAIGHT) -> bool:
    """The timeout: the pending ``offer`` ends unanswered and the chain moves on.
    The caller holds the order's lock; False if it was no longer pending."""
    if offer.state != "pending" or offer.expires_at > now:
        return False
    order = session.get_one(WorkOrder, offer.work_order_id)
    offer.state, offer.answered_at, offer.reason = "expired", now, "no answer in time"
    _audit(session, order, "offer_expire", {"offer_id": str(offer.id)})
    dispatch = session.get(Dispatch, order.id)
    if dispatch is not None:
        advance(session, order, dispatch, session.get_one(Tenant, order.tenant_id), now, router)
    return True


def rank(
    session: Session,
    order: WorkOrder,
    now: datetime,
    router: Router = STRAIGHT,
    *,
    answering_now: bool = False,
) -> list[rules.Candidate] | None:
    """The order's qualified candidates, best first, as ``GET .../candidates`` ranks
    them (on shift for the job in its requested window, if it has one still to come,
    else now); with ``answering_now``, only those also on shift now, who can answer an
    offer in time. None when its site has no position (nobody can be near it)."""
    actor = system_actor(order.tenant_id)
    try:
        _, ranking = services.work_order_candidates(
            session, actor, order.id, services.Options(), now, router
        )
    except errors.SiteNotPlaced:
        return None
    candidates = ranking.candidates
    if answering_now:
        at_once = services.order_job(session, order, services.Options(at=now), now)
        candidates = [c for c in candidates if rules.exclusion(at_once, c.technician) is None]
    return candidates


def _nobody(ranked: list[rules.Candidate] | None) -> chain.Queue:
    if ranked is None:
        return chain.Queue("the site has no position", "no_position")
    return chain.Queue("no qualified technician available", "no_candidate")


def still_excluded(
    session: Session, order: WorkOrder, technician_id: uuid.UUID, now: datetime
) -> tuple[str, str] | None:
    """The hard filter the technician fails for the order now (None: they qualify)."""
    facts = services.candidate_facts(session, order, technician_id, now)
    if facts is None:
        return rules.NO_POSITION, "no fresh fix and no home base"
    job, technician = facts
    return rules.exclusion(job, technician)


def offers_of(session: Session, order: WorkOrder) -> list[Offer]:
    return list(
        session.scalars(
            select(Offer)
            .where(Offer.tenant_id == order.tenant_id, Offer.work_order_id == order.id)
            .order_by(Offer.attempt)
        )
    )


def access_own_offer(session: Session, actor: Actor, offer_id: uuid.UUID) -> Offer:
    """The offer if it is the caller's own (a technician's); otherwise 404."""
    offer = session.scalar(
        select(Offer).where(Offer.id == offer_id, Offer.tenant_id == actor.tenant_id)
    )
    if offer is None or actor.technician_id is None or offer.technician_id != actor.technician_id:
        raise errors.OfferNotFound()
    return offer


def lock_order(session: Session, tenant_id: uuid.UUID, order_id: uuid.UUID) -> WorkOrder | None:
    stmt = select(WorkOrder).where(WorkOrder.id == order_id, WorkOrder.tenant_id == tenant_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.scalars(stmt.execution_options(populate_existing=True)).one_or_none()


def _lock_offer(session: Session, offer_id: uuid.UUID) -> Offer:
    stmt = select(Offer).where(Offer.id == offer_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.scalars(stmt.execution_options(populate_existing=True)).one()


def _assign(
    session: Session,
    order: WorkOrder,
    technician_id: uuid.UUID,
    reason: str,
    occurred_at: datetime | None = None,
    hlc: HLC | None = None,
) -> None:
    actor = system_actor(order.tenant_id)
    plan = order_rules.plan_transition(
        order.status,
        order_rules.Action.ASSIGN,
        actor.role,
        is_assignee=False,
        has_assignee=order.assignee_id is not None,
    )
    command: dict[str, Any] = {"action": "assign", "assignee_id": technician_id, "reason": reason}
    carry_out(session, actor, order, plan, command, hlc or sync_clock.now(), occurred_at)


def _audit(session: Session, order: WorkOrder, action: str, details: dict[str, Any]) -> None:
    audit.record(
        session,
        system_actor(order.tenant_id),
        action,
        "work_order",
        order.id,
        {"dispatch": {"after": details}},
    )
