"""An order's status history with the geofence's evidence on the step it backs
(``GET /v1/work-orders/{id}/history``).

The order's visit (:class:`api.location.models.Visit`, one per order) keeps what
decided its arrival and departure. The history step it backs is the visit's
``arrive``: the first one since the technician last set off before the arrival
the fixes showed (the geofence's own, when it recorded the arrival; the
technician's, when it only suggested it). That step carries the visit's
``arrival_evidence`` and ``departure_evidence``, as ``/visit`` gives them (a
customer contact's without the fixes' positions); every
other step, and every step while no ``arrive`` answers the visit yet, carries
``null``.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.http.pagination import Page
from api.location.evidence import evidence_for
from api.location.models import Visit
from api.workorders import queries
from api.workorders.models import StatusChange
from api.workorders.states import Status

EVIDENCE = ("arrival_evidence", "departure_evidence")


def history_with_evidence(
    session: Session, actor: Actor, work_order_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page:
    """:func:`api.workorders.queries.list_history`, each step with the geofence's evidence."""
    page = queries.list_history(session, actor, work_order_id, limit=limit, cursor=cursor)
    visit = session.get(Visit, (actor.tenant_id, work_order_id))
    backed = _arrive_step(session, visit) if visit is not None else None
    items = []
    for item in page.items:
        shown = item if isinstance(item, dict) else queries.history_fields(item)
        evidence: dict[str, dict[str, Any] | None] = {name: None for name in EVIDENCE}
        if visit is not None and shown["id"] == backed:
            evidence = {name: evidence_for(actor, getattr(visit, name)) for name in EVIDENCE}
        items.append({**shown, **evidence})
    return Page(items=items, next_cursor=page.next_cursor)


def _arrive_step(session: Session, visit: Visit) -> uuid.UUID | None:
    """The ``arrive`` step that answers the visit's arrival (None while none does)."""
    steps = (StatusChange.tenant_id == visit.tenant_id) & (
        StatusChange.work_order_id == visit.work_order_id
    )
    set_off = session.scalar(
        select(func.max(StatusChange.occurred_at)).where(
            steps,
            StatusChange.to_status == Status.EN_ROUTE,
            StatusChange.occurred_at <= visit.arrived_at,
        )
    )
    arrive = select(StatusChange.id).where(steps, StatusChange.action == "arrive")
    if set_off is not None:
        arrive = arrive.where(StatusChange.occurred_at >= set_off)
    found: uuid.UUID | None = session.scalar(
        arrive.order_by(StatusChange.occurred_at, StatusChange.recorded_at).limit(1)
    )
    return found
