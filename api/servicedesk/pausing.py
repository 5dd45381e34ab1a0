"""The office pauses an order's SLA clocks explicitly, with a reason, and resumes them.

Besides the ``paused`` status (waiting on the customer or parts, which moves
the order), the office may stop the clocks while the order stays where it is:
the customer asked to be called back next week, a permit is awaited. Each pause
is a row with who, when and why (and who resumed it, when and why), an audit
event on the order's trail, and a recomputation of its due times and of its
next escalation check. A finished order's clocks are stopped for good.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.auth.actor import Actor
from api.db import UnitOfWork, new_id, utcnow
from api.servicedesk import clocks
from api.servicedesk.errors import SlaAlreadyPaused, SlaFinished, SlaNotPaused
from api.servicedesk.escalation_models import SlaPause
from api.workorders.models import WorkOrder
from api.workorders.queries import access_work_order
from api.workorders.states import Status

_FINISHED = (Status.COMPLETED, Status.CLOSED, Status.CANCELLED)


def pause_clocks(uow: UnitOfWork, actor: Actor, work_order_id: uuid.UUID, reason: str) -> SlaPause:
    with uow:
        session = uow.session
        order = access_work_order(session, actor, work_order_id, for_update=True)
        if order.status in _FINISHED:
            raise SlaFinished()
        if open_pause(session, order) is not None:
            raise SlaAlreadyPaused()
        pause = SlaPause(
            id=new_id(),  # now: the clocks read it before the INSERT
            tenant_id=order.tenant_id,
            work_order_id=order.id,
            started_at=utcnow(),
            reason=reason,
            started_by=actor.principal_id,
        )
        session.add(pause)
        clocks.refresh(session, order)
        session.flush()  # the pause's id, for the audit event
        _audit(session, actor, order, "sla_pause", pause, reason)
        uow.commit()
        return pause


def resume_clocks(
    uow: UnitOfWork, actor: Actor, work_order_id: uuid.UUID, reason: str | None
) -> SlaPause:
    with uow:
        session = uow.session
        order = access_work_order(session, actor, work_order_id, for_update=True)
        pause = open_pause(session, order)
        if pause is None:
            raise SlaNotPaused()
        pause.ended_at = max(utcnow(), pause.started_at)
        pause.ended_by = actor.principal_id
        pause.resume_reason = reason
        clocks.refresh(session, order)
        _audit(session, actor, order, "sla_resume", pause, reason)
        uow.commit()
        return pause


def open_pause(session: Session, order: WorkOrder) -> SlaPause | None:
    return session.scalars(
        select(SlaPause).where(
            SlaPause.tenant_id == order.tenant_id,
            SlaPause.work_order_id == order.id,
            SlaPause.ended_at.is_(None),
        )
    ).first()


def list_pauses(session: Session, actor: Actor, work_order_id: uuid.UUID) -> list[SlaPause]:
    order = access_work_order(session, actor, work_order_id)
    return list(
        session.scalars(
            select(SlaPause)
            .where(SlaPause.tenant_id == order.tenant_id, SlaPause.work_order_id == order.id)
            .order_by(SlaPause.started_at, SlaPause.id)
        )
    )


def _audit(
    session: Session, actor: Actor, order: WorkOrder, action: str, pause: SlaPause, reason: Any
) -> None:
    audit.record(
        session,
        actor,
        action,
        "work_order",
        order.id,
        {"sla_pause": {"after": {"id": str(pause.id), "reason": reason}}},
    )
