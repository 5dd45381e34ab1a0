"""Geofenced arrival and departure, detected as positions come in.

Runs in the unit of work that keeps a batch of fixes (:func:`detect_visits` is
called by :func:`api.location.services.record_positions` when
:func:`jobs_under_way` said there is something to detect). For each of the
technician's jobs under way (``en_route``, ``on_site``, ``in_progress``) at a site
with a position, :func:`dispatch.geofence.detect` reads the whole trip's fixes,
from the last time they set off for it, so a late batch is judged with
everything before and after it.

- An arrival found while the order is ``en_route`` is **recorded** (tenant
  ``arrival_mode = "auto"``: the order moves ``on_site`` through the ordinary
  transition, as the technician, dated at the arrival's first fix) or
  **suggested** (``"suggest"``, the default: the technician is notified and
  confirms on the device; nothing else changes).
- Each visit's arrival and departure times are set once, then kept: a later
  batch never moves them or the order back. Each is kept with its evidence (the
  first and last fix of the stay or absence that decided it, and how many fixes
  it held: :class:`dispatch.geofence.Evidence`), which the suggestion carries too.
  Detection reads the whole trip in time order, which the trail index serves;
  :mod:`dispatch.fix_index` answers the office's questions about a place instead
  (:mod:`api.location.presence`).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Exists, Select, select
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.db import utcnow
from api.location.evidence import evidence_for, evidence_json
from api.location.models import Position, Visit
from api.outbox.services import publish
from api.sites.models import Site
from api.sync import clock as sync_clock
from api.tenants.models import Tenant
from api.workorders import queries, rules
from api.workorders.models import StatusChange, WorkOrder
from api.workorders.rules import Action
from api.workorders.states import Status
from api.workorders.transitions import carry_out
from dispatch import geofence
from dispatch.fixes import Fix

TOPIC_ARRIVAL_SUGGESTED = "work_order.arrival_suggested"
_UNDER_WAY = (Status.EN_ROUTE, Status.ON_SITE, Status.IN_PROGRESS)
_LONGEST_TRIP = timedelta(days=2)


def jobs_under_way(actor: Actor) -> Exists:
    """Whether the caller has a job under way at a site with a position (an ``EXISTS``
    for the caller's own statement: without one, :func:`detect_visits` has nothing
    to do and need not run)."""
    return _jobs(actor, select(WorkOrder.id)).exists()


def detect_visits(session: Session, actor: Actor) -> None:
    """Detect arrivals and departures for the caller's jobs under way."""
    assert actor.technician_id is not None
    jobs = session.execute(_jobs(actor, select(WorkOrder, Site.lat, Site.lon))).all()
    if not jobs:
        return
    tenant = session.get(Tenant, actor.tenant_id)
    assert tenant is not None
    fence = geofence.FenceRules(
        enter_m=float(tenant.geofence_radius_m), exit_m=2.0 * tenant.geofence_radius_m
    )
    for order, lat, lon in jobs:
        visit = session.get(Visit, (actor.tenant_id, order.id))
        if visit is not None and visit.left_at is not None:
            continue  # both times are known and final
        found = geofence.detect((lat, lon), _trip(session, actor, order), fence)
        if found is None:
            continue
        if visit is None:
            visit = _arrive(session, actor, tenant, order, found)
        if visit.left_at is None and found.left_at is not None:
            visit.left_at = found.left_at
            visit.departure_evidence = evidence_json(found.departure)


def _jobs(actor: Actor, columns: Select[Any]) -> Select[Any]:
    return columns.join(Site, Site.id == WorkOrder.site_id).where(
        WorkOrder.tenant_id == actor.tenant_id,
        WorkOrder.assignee_id == actor.technician_id,
        WorkOrder.status.in_(_UNDER_WAY),
        Site.lat.is_not(None),
        Site.lon.is_not(None),
    )


def _trip(session: Session, actor: Actor, order: WorkOrder) -> list[Fix]:
    """The technician's fixes since they last set off for this order."""
    set_off = session.scalar(
        select(StatusChange.occurred_at)
        .where(
            StatusChange.tenant_id == actor.tenant_id,
            StatusChange.work_order_id == order.id,
            StatusChange.to_status == Status.EN_ROUTE,
        )
        .order_by(StatusChange.occurred_at.desc())
        .limit(1)
    )
    start = set_off if set_off is not None else utcnow() - _LONGEST_TRIP
    rows = session.execute(
        select(Position.fixed_at, Position.lat, Position.lon, Position.accuracy_m)
        .where(
            Position.tenant_id == actor.tenant_id,
            Position.technician_id == actor.technician_id,
            Position.fixed_at >= start,
        )
        .order_by(Position.fixed_at)
    )
    return [Fix(fixed_at=t, lat=lat, lon=lon, accuracy_m=acc) for t, lat, lon, acc in rows]


def _arrive(
    session: Session, actor: Actor, tenant: Tenant, order: WorkOrder, found: geofence.Visit
) -> Visit:
    record = tenant.arrival_mode == "auto" and order.status is Status.EN_ROUTE
    visit = Visit(
        tenant_id=actor.tenant_id,
        work_order_id=order.id,
        technician_id=actor.technician_id,
        arrived_at=found.arrived_at,
        left_at=None,
        arrival="recorded" if record else "suggested",
        arrival_evidence=evidence_json(found.arrival),
    )
    session.add(visit)
    if record:
        plan = rules.plan_transition(
            order.status,
            Action.ARRIVE,
            actor.role,
            is_assignee=queries.is_assignee(actor, order),
            has_assignee=True,
        )
        floor = queries.step_time(session, order, order.status)
        occurred = max(found.arrived_at, floor) if floor is not None else found.arrived_at
        carry_out(
            session,
            actor,
            order,
            plan,
            {"action": "arrive", "reason": "geofence"},
            sync_clock.now(),
            min(occurred, utcnow()),
        )
    elif order.status is Status.EN_ROUTE:
        publish(
            session,
            actor.tenant_id,
            TOPIC_ARRIVAL_SUGGESTED,
            {
                "tenant_id": actor.tenant_id,
                "work_order_id": order.id,
                "number": order.number,
                "user_id": actor.user_id,
                "arrived_at": found.arrived_at,
                "evidence": visit.arrival_evidence,
            },
        )
    return visit


def visit_of(session: Session, actor: Actor, work_order_id: uuid.UUID) -> dict[str, Any] | None:
    """The order's visit, for whoever may read the order (its evidence as
    :func:`api.location.evidence.evidence_for` lets them)."""
    queries.access_work_order(session, actor, work_order_id)
    visit = session.get(Visit, (actor.tenant_id, work_order_id))
    if visit is None:
        return None
    return {
        "work_order_id": visit.work_order_id,
        "technician_id": visit.technician_id,
        "arrived_at": visit.arrived_at,
        "left_at": visit.left_at,
        "arrival": visit.arrival,
        "arrival_evidence": evidence_for(actor, visit.arrival_evidence),
        "departure_evidence": evidence_for(actor, visit.departure_evidence),
    }
