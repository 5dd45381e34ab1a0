"""Candidates for a work order: a spatial short list, then dispatch's rules.

The spatial index (:mod:`dispatch.spatial`) gives the technicians nearest to the
site by effective position (a fresh fix, else home base); their facts are then
read with them and :func:`dispatch.candidates.rank` filters and scores them with
exact geodesics. :func:`nearest_qualified` asks the index for the nearest active and
skilled technicians only, and measures exact geodesics only where they decide.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.categories import skills
from api.customers.models import Customer, CustomerTier
from api.dispatching import errors
from api.location.models import CurrentLocation
from api.sites.models import Site
from api.technicians.models import Technician, TechnicianSkill
from api.workorders import queries
from api.workorders.models import WorkOrder, WorkOrderAsset
from api.workorders.states import Status
from dispatch import candidates as rules
from dispatch.routing import Router, StraightLine
from dispatch.spatial import FIX, HOME, Located, Placed, index_for

FRESH_MINUTES = 30  # a fix older than this no longer places a technician: home base does
CAPACITY = 8  # open orders a technician may hold
SHORTLIST = 50
OPEN_STATUSES = (
    Status.ASSIGNED,
    Status.ACCEPTED,
    Status.EN_ROUTE,
    Status.ON_SITE,
    Status.IN_PROGRESS,
    Status.PAUSED,
)


@dataclass(frozen=True)
class Options:
    skill: str | None = None
    min_level: int = 1
    certification: str | None = None
    at: datetime | None = None
    fresh_minutes: int = FRESH_MINUTES
    capacity: int = CAPACITY
    shortlist: int = SHORTLIST
    profile: str = "urban"


def work_order_candidates(
    session: Session,
    actor: Actor,
    work_order_id: uuid.UUID,
    options: Options,
    now: datetime,
    router: Router | None = None,
) -> tuple[WorkOrder, rules.Ranking]:
    order = queries.access_work_order(session, actor, work_order_id)
    job = order_job(session, order, options, now)
    ranking = rank_near(
        session,
        actor.tenant_id,
        job,
        now=now,
        fresh_since=now - timedelta(minutes=options.fresh_minutes),
        capacity=options.capacity,
        shortlist=options.shortlist,
        profile=rules.SPEED_PROFILES[options.profile],
        router=router,
    )
    return order, ranking


def order_job(session: Session, order: WorkOrder, options: Options, now: datetime) -> rules.Job:
    """What the order needs, where and when, as dispatch's rules read it."""
    site = session.get(Site, order.site_id)
    if site is None or site.lat is None or site.lon is None:
        raise errors.SiteNotPlaced()
    customer = session.get(Customer, order.customer_id)
    at = options.at or (
        order.requested_start if order.requested_start and order.requested_start > now else now
    )
    # A start the caller chose is checked at that instant; else the requested window.
    until = order.requested_end if options.at is None else None
    asked = [{"skill": options.skill, "level": options.min_level}] if options.skill else []
    return rules.Job(
        lat=site.lat,
        lon=site.lon,
        at=at,
        until=until if until is not None and until > at else None,
        duration=_duration(order),
        skills=skills.order_requirements(session, order.category_id, order.required_skills, asked),
        certification=options.certification,
        sla_due_at=order.sla_due_at,
        vip=customer is not None and customer.tier is CustomerTier.VIP,
        last_technicians=last_technicians(session, order),
    )


def _duration(order: WorkOrder) -> timedelta:
    """How long the work takes: its scheduled length, else dispatch's default."""
    start, end = order.scheduled_start, order.scheduled_end
    return end - start if start and end and end > start else rules.DEFAULT_DURATION


def candidate_facts(
    session: Session,
    order: WorkOrder,
    technician_id: uuid.UUID,
    now: datetime,
    options: Options = Options(),
) -> tuple[rules.Job, rules.Technician] | None:
    """The order's job (in its requested window still to come, else at ``now``) and one
    technician's facts, to check them again (an offer being accepted); None if the
    technician has no position to be placed by."""
    job = order_job(session, order, options, now)
    located = locate(
        session, order.tenant_id, technician_id, now - timedelta(minutes=options.fresh_minutes)
    )
    if located is None:
        return None
    facts = technician_facts(session, order.tenant_id, [located], options.capacity)
    return (job, facts[0]) if facts else None


def locate(
    session: Session, tenant_id: uuid.UUID, technician_id: uuid.UUID, fresh_since: datetime
) -> Located | None:
    """One technician's effective position: a fresh fix, else their home base."""
    fix = session.execute(
        select(CurrentLocation.lat, CurrentLocation.lon, CurrentLocation.fixed_at).where(
            CurrentLocation.tenant_id == tenant_id,
            CurrentLocation.technician_id == technician_id,
            CurrentLocation.fixed_at >= fresh_since,
        )
    ).first()
    if fix is not None:
        return Located(technician_id, fix.lat, fix.lon, FIX, fix.fixed_at, 0.0)
    home = session.execute(
        select(Technician.home_lat, Technician.home_lon).where(
            Technician.tenant_id == tenant_id, Technician.id == technician_id
        )
    ).first()
    if home is None or home.home_lat is None or home.home_lon is None:
        return None
    return Located(technician_id, home.home_lat, home.home_lon, HOME, None, 0.0)


def rank_near(
    session: Session,
    tenant_id: uuid.UUID,
    job: rules.Job,
    *,
    now: datetime,
    fresh_since: datetime,
    capacity: int,
    shortlist: int,
    profile: rules.SpeedProfile = rules.SPEED_PROFILES["urban"],
    skilled_only: bool = False,
    router: Router | None = None,
) -> rules.Ranking:
    """Rank the ``shortlist`` technicians nearest to the job (with ``skilled_only``,
    the nearest active ones holding every skill of the job at its level: the index
    filters, and nobody is reported as excluded for being inactive or unskilled)."""
    index = index_for(session.get_bind().dialect.name)
    open_statuses = [status.value for status in OPEN_STATUSES]
    if skilled_only:
        placed = index.qualified(
            session.connection(),
            tenant_id,
            job.lat,
            job.lon,
            fresh_since=fresh_since,
            limit=shortlist,
            skills=job.skills,
            open_statuses=open_statuses,
        )
    else:
        # The short list and its facts in one query (skills from ``skill_levels``).
        placed = index.shortlist(
            session.connection(),
            tenant_id,
            job.lat,
            job.lon,
            fresh_since=fresh_since,
            limit=shortlist,
            open_statuses=open_statuses,
        )
    facts = [_facts_of(p, capacity) for p in placed]
    ranking = rules.rank(job, facts, now=now, profile=profile)
    if router is None or isinstance(router, StraightLine) or not ranking.candidates:
        return ranking
    return by_road(job, ranking, router, now=now, profile=profile)


def by_road(
    job: rules.Job,
    ranking: rules.Ranking,
    router: Router,
    *,
    now: datetime,
    profile: rules.SpeedProfile,
) -> rules.Ranking:
    """Score the qualified short list again with the routing engine's travel times, asked
    in one request (OSRM ``table``); a technician the engine found no route for keeps the
    straight-line estimate, and so does everyone when the engine is down."""
    technicians = [c.technician for c in ranking.candidates]
    legs = router.travel_from(
        [(t.lat or 0.0, t.lon or 0.0) for t in technicians], (job.lat, job.lon)
    )
    travel = {
        tech.id: (leg.seconds / 60, leg.source)
        for tech, leg in zip(technicians, legs, strict=True)
        if leg.source == "osrm"
    }
    if not travel:
        return ranking
    again = rules.rank(job, technicians, now=now, profile=profile, travel=travel)
    return rules.Ranking(again.candidates, ranking.excluded)


def nearest_qualified(
    session: Session,
    tenant_id: uuid.UUID,
    job: rules.Job,
    *,
    now: datetime,
    fresh_since: datetime,
    capacity: int = CAPACITY,
    first_shortlist: int = 8,
    profile: rules.SpeedProfile = rules.SPEED_PROFILES["urban"],
) -> rules.Candidate | None:
    """The best qualified technician among the ``first_shortlist`` nearest who are
    active and hold the job's skills (the index filters those), widening the list ×4
    until one passes the other filters (or every placed technician was looked at).

    The best is :func:`dispatch.candidates.rank`'s first, with the same score parts;
    :func:`dispatch.candidates.best` measures exact geodesics only where they can
    change it."""
    index = index_for(session.get_bind().dialect.name)
    open_statuses = [status.value for status in OPEN_STATUSES]
    shortlist = first_shortlist
    while True:
        placed = index.qualified(
            session.connection(),
            tenant_id,
            job.lat,
            job.lon,
            fresh_since=fresh_since,
            limit=shortlist,
            skills=job.skills,
            open_statuses=open_statuses,
        )
        facts = [_facts_of(p, capacity) for p in placed]
        found = rules.best(job, facts, now=now, profile=profile)
        if found is not None or len(placed) < shortlist:
            return found
        shortlist *= 4


def _facts_of(placed: Placed, capacity: int) -> rules.Technician:
    located = placed.located
    return rules.Technician(
        id=located.technician_id,
        name=placed.name,
        active=placed.active,
        skills=placed.skills,
        certifications=placed.certifications,
        working_hours=placed.working_hours,
        timezone=placed.timezone,
        open_orders=placed.open_orders,
        capacity=capacity,
        lat=located.lat,
        lon=located.lon,
        position_source=located.source,
    )


def technician_facts(
    session: Session, tenant_id: uuid.UUID, near: list[Located], capacity: int
) -> list[rules.Technician]:
    ids = [located.technician_id for located in near]
    if not ids:
        return []
    rows = {
        row.id: row
        for row in session.execute(
            select(
                Technician.id,
                Technician.name,
                Technician.active,
                Technician.certifications,
                Technician.working_hours,
                Technician.timezone,
                Technician.tenant_id,
            ).where(Technician.id.in_(ids))  # by primary key (see the skills below)
        )
        if row.tenant_id == tenant_id
    }
    skills: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for tech_id, skill, level in session.execute(
        # By technician only: ``ids`` are this tenant's already, and a tenant condition
        # would lead SQLite to walk the tenant's every skill instead of the primary key.
        select(TechnicianSkill.technician_id, TechnicianSkill.skill, TechnicianSkill.level).where(
            TechnicianSkill.technician_id.in_(ids)
        )
    ):
        skills[tech_id][skill] = level
    open_orders: dict[uuid.UUID, int] = dict(
        session.execute(  # type: ignore[arg-type]
            select(WorkOrder.assignee_id, func.count())
            .where(
                WorkOrder.tenant_id == tenant_id,
                WorkOrder.assignee_id.in_(ids),
                WorkOrder.status.in_(OPEN_STATUSES),
            )
            .group_by(WorkOrder.assignee_id)
        ).all()
    )
    facts = []
    for located in near:
        row = rows.get(located.technician_id)
        if row is None:
            continue
        facts.append(
            rules.Technician(
                id=row.id,
                name=row.name,
                active=row.active,
                skills=skills.get(row.id, {}),
                certifications=row.certifications or [],
                working_hours=row.working_hours or {},
                timezone=row.timezone,
                open_orders=open_orders.get(row.id, 0),
                capacity=capacity,
                lat=located.lat,
                lon=located.lon,
                position_source=located.source,
            )
        )
    return facts


def last_technicians(session: Session, order: WorkOrder) -> frozenset[uuid.UUID]:
    """Who finished the latest earlier order on each of this order's assets."""
    asset_ids = select(WorkOrderAsset.asset_id).where(
        WorkOrderAsset.tenant_id == order.tenant_id, WorkOrderAsset.work_order_id == order.id
    )
    rows = session.execute(
        select(WorkOrderAsset.asset_id, WorkOrder.assignee_id)
        .join(WorkOrder, WorkOrder.id == WorkOrderAsset.work_order_id)
        .where(
            WorkOrderAsset.tenant_id == order.tenant_id,
            WorkOrderAsset.asset_id.in_(asset_ids),
            WorkOrder.id != order.id,
            WorkOrder.assignee_id.is_not(None),
            WorkOrder.completed_at.is_not(None),
        )
        .order_by(WorkOrder.completed_at.desc())
    )
    latest: dict[uuid.UUID, uuid.UUID] = {}
    for asset_id, assignee_id in rows:
        latest.setdefault(asset_id, assignee_id)
    return frozenset(latest.values())
