"""Telling the people a workflow step now waits for, through the outbox and every channel.

When steps become current (a step activated, or work sent back to it), the run
writes one ``workflow.step_waiting`` message in the same transaction; the worker
turns it into an in-app notification for each member of the owning teams (their
technicians and supervisor) and each person with the owning role, which
:func:`api.notifications.delivery.add` sends on (Web Push, email). The person
whose action made the step current is not told. The (message, user) unique
constraint makes a re-run of the same message a no-op.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.notifications import delivery
from api.notifications.models import Notification
from api.outbox.models import OutboxMessage
from api.outbox.services import publish
from api.teams.models import Team
from api.technicians.models import Technician
from api.users.models import User
from api.workflows.definitions import Definition
from api.workorders.models import WorkOrder

TOPIC = "workflow.step_waiting"
_TITLE = {
    "zh-CN": "工单 {number} 等待您处理：{steps}",
    "en": "Work order {number} is waiting for you: {steps}",
}


def publish_waiting(
    session: Session, actor: Actor, order: WorkOrder, definition: Definition, keys: Iterable[str]
) -> None:
    steps = [definition.step(k) for k in dict.fromkeys(keys)]
    if not steps:
        return
    publish(
        session,
        order.tenant_id,
        TOPIC,
        {
            "tenant_id": order.tenant_id,
            "work_order_id": order.id,
            "number": order.number,
            "actor_id": actor.principal_id,
            "steps": [
                {
                    "key": s.key,
                    "name": s.name,
                    "name_en": s.name_en,
                    "parties": [p.to_json() for p in s.deciders],
                }
                for s in steps
            ],
        },
    )


def notify_step_waiting(session: Session, message: OutboxMessage) -> None:
    payload = message.payload
    tenant_id = uuid.UUID(payload["tenant_id"])
    steps_of: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for step in payload["steps"]:
        for user_id in _people(session, tenant_id, step["parties"]):
            steps_of.setdefault(user_id, []).append(step)
    if payload.get("actor_id"):
        steps_of.pop(uuid.UUID(payload["actor_id"]), None)  # nobody is told of their own action
    for user_id, user_locale in delivery.still_to_tell(session, tenant_id, message.id, steps_of):
        locale = user_locale if user_locale in _TITLE else "zh-CN"
        mine = steps_of[user_id]
        names = "、".join(s["name"] for s in mine)
        names_en = ", ".join(s["name_en"] or s["name"] for s in mine)
        title = _TITLE[locale].format(
            number=payload["number"], steps=names if locale == "zh-CN" else names_en
        )
        delivery.add(
            session,
            Notification(
                tenant_id=tenant_id,
                user_id=user_id,
                kind=TOPIC,
                locale=locale,
                title=title[:300],
                title_en=_TITLE["en"].format(number=payload["number"], steps=names_en)[:300],
                body="",
                data={
                    "work_order_id": payload["work_order_id"],
                    "steps": [s["key"] for s in mine],
                },
                source_message_id=message.id,
            ),
        )


def _people(
    session: Session, tenant_id: uuid.UUID, parties: list[dict[str, str]]
) -> set[uuid.UUID]:
    teams = [uuid.UUID(p["team_id"]) for p in parties if "team_id" in p]
    roles = [p["role"] for p in parties if "role" in p]
    found: set[uuid.UUID] = set()
    if teams:
        found.update(
            u
            for u in session.scalars(
                select(Technician.user_id).where(
                    Technician.tenant_id == tenant_id,
                    Technician.team_id.in_(teams),
                    Technician.active.is_(True),
                    Technician.user_id.is_not(None),
                )
            )
            if u is not None
        )
        found.update(
            u
            for u in session.scalars(
                select(Team.supervisor_user_id).where(
                    Team.tenant_id == tenant_id, Team.id.in_(teams)
                )
            )
            if u is not None
        )
    if roles:
        found.update(
            session.scalars(
                select(User.id).where(
                    User.tenant_id == tenant_id,
                    or_(*(User.role == r for r in roles)),
                )
            )
        )
    return found
