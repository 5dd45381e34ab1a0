"""SLA policy use cases. A change to the policies recomputes the tenant's unfinished orders.

Checked at save time: the category and the calendar must be this tenant's (a
policy for another tenant's category is a 422 that names nothing of it), at
least one target, and no second policy with exactly the same criteria.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.audit.changes import apply_changes, snapshot
from api.auth.actor import Actor
from api.categories.models import Category
from api.db import UnitOfWork
from api.db.checks import check_version, ensure_unused_id
from api.errors.base import FieldProblem
from api.errors.common import ValidationFailed
from api.servicedesk import clocks
from api.servicedesk.errors import PolicyDuplicate, PolicyNotFound, PolicyWithoutTarget
from api.servicedesk.models import BusinessCalendar, SlaPolicy

POLICY_FIELDS = frozenset(
    {
        "name",
        "priority",
        "category_id",
        "customer_tier",
        "calendar_id",
        "first_response_minutes",
        "arrival_minutes",
        "resolution_minutes",
    }
)
_TARGETS = ("first_response_minutes", "arrival_minutes", "resolution_minutes")
_CRITERIA = ("priority", "category_id", "customer_tier")


def access_policy(session: Session, actor: Actor, policy_id: uuid.UUID) -> SlaPolicy:
    found = session.scalars(
        select(SlaPolicy).where(SlaPolicy.id == policy_id, SlaPolicy.tenant_id == actor.tenant_id)
    ).one_or_none()
    if found is None:
        raise PolicyNotFound()
    return found


def create_policy(uow: UnitOfWork, actor: Actor, data: Mapping[str, Any]) -> SlaPolicy:
    with uow:
        session = uow.session
        ensure_unused_id(session, SlaPolicy, data.get("id"))
        policy = SlaPolicy(tenant_id=actor.tenant_id)
        if data.get("id"):
            policy.id = data["id"]
        apply_changes(
            policy, _plain({k: v for k, v in data.items() if k in POLICY_FIELDS}), POLICY_FIELDS
        )
        _check(session, actor, policy)
        session.add(policy)
        session.flush()  # the id, for the snapshot and so the recompute sees the policy
        audit.record(
            session, actor, "create", "sla_policy", policy.id, snapshot(policy, POLICY_FIELDS)
        )
        clocks.refresh_tenant(session, actor.tenant_id)
        uow.commit()
        return policy


def update_policy(
    uow: UnitOfWork,
    actor: Actor,
    policy_id: uuid.UUID,
    expected_version: int,
    changes: Mapping[str, Any],
) -> SlaPolicy:
    with uow:
        session = uow.session
        policy = access_policy(session, actor, policy_id)
        check_version(policy, expected_version)
        diff = apply_changes(policy, _plain(changes), POLICY_FIELDS)
        _check(session, actor, policy)
        audit.record(session, actor, "update", "sla_policy", policy.id, diff)
        if diff:
            session.flush()  # the recompute reads the changed policy back
            clocks.refresh_tenant(session, actor.tenant_id)
        uow.commit()
        return policy


def delete_policy(
    uow: UnitOfWork, actor: Actor, policy_id: uuid.UUID, expected_version: int
) -> None:
    with uow:
        session = uow.session
        policy = access_policy(session, actor, policy_id)
        check_version(policy, expected_version)
        audit.record(session, actor, "delete", "sla_policy", policy.id, snapshot(policy, ["name"]))
        session.delete(policy)
        session.flush()  # gone before the recompute chooses again
        clocks.refresh_tenant(session, actor.tenant_id)
        uow.commit()


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    """Enums as their stored strings."""
    return {k: getattr(v, "value", v) for k, v in values.items()}


def _check(session: Session, actor: Actor, policy: SlaPolicy) -> None:
    problems: list[FieldProblem] = []
    if policy.category_id is not None and not session.scalar(
        select(
            exists().where(Category.id == policy.category_id, Category.tenant_id == actor.tenant_id)
        )
    ):
        problems.append(FieldProblem("category_id", "not_found", "No such category"))
    if policy.calendar_id is not None and not session.scalar(
        select(
            exists().where(
                BusinessCalendar.id == policy.calendar_id,
                BusinessCalendar.tenant_id == actor.tenant_id,
            )
        )
    ):
        problems.append(FieldProblem("calendar_id", "not_found", "No such business calendar"))
    if problems:
        raise ValidationFailed(errors=problems)
    if all(getattr(policy, name) is None for name in _TARGETS):
        raise PolicyWithoutTarget()
    same = [
        getattr(SlaPolicy, c).is_(None)
        if getattr(policy, c) is None
        else getattr(SlaPolicy, c) == getattr(policy, c)
        for c in _CRITERIA
    ]
    clash = exists().where(SlaPolicy.tenant_id == actor.tenant_id, SlaPolicy.id != policy.id, *same)
    if session.scalar(select(clash)):
        raise PolicyDuplicate()
