"""Versions of a tenant's priority rule set: written on every save, read, rolled back.

The rules table is the working copy people edit one rule at a time; each save
also writes the whole set as the next immutable version, in the same unit of
work. An order's decision keeps the version number, so "why is this order
urgent" still has an answer after the rules change. A rollback copies an old
version's content back into the working copy and writes it as a new version:
history only grows.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.auth.actor import Actor
from api.db import UnitOfWork, utcnow
from api.servicedesk.errors import RuleVersionNotFound
from api.servicedesk.models import PriorityRule, PriorityRuleSetVersion
from api.servicedesk.priority_rules import Rule

CONTENT_FIELDS = ("name", "position", "logic", "priority", "active")


def record_version(
    session: Session, actor: Actor, cause: str, rolled_back_to: int | None = None
) -> PriorityRuleSetVersion:
    """Write the working copy as the tenant's next version (call after the change)."""
    session.flush()  # the change itself, so the read below sees the set as saved
    rows = session.scalars(
        select(PriorityRule)
        .where(PriorityRule.tenant_id == actor.tenant_id)
        .order_by(PriorityRule.position, PriorityRule.id)
    )
    content = [
        {"id": str(r.id), **{name: getattr(r, name) for name in CONTENT_FIELDS}} for r in rows
    ]
    version = PriorityRuleSetVersion(
        tenant_id=actor.tenant_id,
        number=(current_number(session, actor.tenant_id) or 0) + 1,
        rules=content,
        cause=cause,
        rolled_back_to=rolled_back_to,
        created_by=actor.principal_id,
        created_at=utcnow(),
    )
    session.add(version)
    return version


def current_number(session: Session, tenant_id: uuid.UUID) -> int | None:
    """The tenant's newest version number (None: rules were never saved)."""
    return session.scalar(
        select(func.max(PriorityRuleSetVersion.number)).where(
            PriorityRuleSetVersion.tenant_id == tenant_id
        )
    )


def access_version(
    session: Session,
    actor: Actor,
    *,
    version_id: uuid.UUID | None = None,
    number: int | None = None,
) -> PriorityRuleSetVersion:
    stmt = select(PriorityRuleSetVersion).where(PriorityRuleSetVersion.tenant_id == actor.tenant_id)
    if version_id is not None:
        stmt = stmt.where(PriorityRuleSetVersion.id == version_id)
    else:
        stmt = stmt.where(PriorityRuleSetVersion.number == number)
    found = session.scalars(stmt).one_or_none()
    if found is None:
        raise RuleVersionNotFound()
    return found


def rules_of(version: PriorityRuleSetVersion) -> list[Rule]:
    """The active rules of a version, in the order they apply."""
    return [
        Rule(uuid.UUID(r["id"]), r["name"], r["logic"], r["priority"])
        for r in version.rules
        if r["active"]
    ]


def roll_back(uow: UnitOfWork, actor: Actor, version_id: uuid.UUID) -> PriorityRuleSetVersion:
    """Make an old version's content current again, as a new version."""
    with uow:
        session = uow.session
        target = access_version(session, actor, version_id=version_id)
        wanted: dict[uuid.UUID, Mapping[str, Any]] = {uuid.UUID(r["id"]): r for r in target.rules}
        current = session.scalars(
            select(PriorityRule).where(PriorityRule.tenant_id == actor.tenant_id)
        ).all()
        for rule in current:
            content = wanted.pop(rule.id, None)
            if content is None:
                session.delete(rule)
            else:
                for name in CONTENT_FIELDS:
                    if getattr(rule, name) != content[name]:
                        setattr(rule, name, content[name])
        for rule_id, content in wanted.items():
            session.add(
                PriorityRule(
                    id=rule_id,
                    tenant_id=actor.tenant_id,
                    **{name: content[name] for name in CONTENT_FIELDS},
                )
            )
        version = record_version(session, actor, "rollback", rolled_back_to=target.number)
        session.flush()  # the new version's id, for the audit entry
        audit.record(
            session,
            actor,
            "rollback",
            "priority_rule_set",
            version.id,
            {"number": {"after": version.number}, "rolled_back_to": {"after": target.number}},
        )
        uow.commit()
        return version
