"""Escalation rule use cases: saved only when every part is sound; a change replans open orders.

Checked at save time (problem+json, never a worker error later): the condition
is JSON Logic over the known facts, the trigger and action are complete, the
category and team are this tenant's (another tenant's id is the same 422 as
one that does not exist).
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
from api.servicedesk import escalating
from api.servicedesk.errors import EscalationRuleInvalid, EscalationRuleNotFound
from api.servicedesk.escalation_models import EscalationRule
from api.servicedesk.escalation_rules import check_rule
from api.teams.models import Team
from api.workorders.models import WorkOrder

RULE_FIELDS = frozenset(
    {
        "name",
        "level",
        "logic",
        "category_id",
        "trigger",
        "minutes",
        "business_time",
        "sla_target",
        "percent",
        "action",
        "team_id",
        "active",
    }
)


def access_escalation_rule(session: Session, actor: Actor, rule_id: uuid.UUID) -> EscalationRule:
    found = session.scalars(
        select(EscalationRule).where(
            EscalationRule.id == rule_id, EscalationRule.tenant_id == actor.tenant_id
        )
    ).one_or_none()
    if found is None:
        raise EscalationRuleNotFound()
    return found


def create_escalation_rule(
    uow: UnitOfWork, actor: Actor, data: Mapping[str, Any]
) -> EscalationRule:
    with uow:
        session = uow.session
        ensure_unused_id(session, EscalationRule, data.get("id"))
        values = {k: v for k, v in data.items() if k in RULE_FIELDS}
        values.setdefault("logic", {})
        _check(session, actor, values)
        rule = EscalationRule(tenant_id=actor.tenant_id)
        if data.get("id"):
            rule.id = data["id"]
        apply_changes(rule, values, RULE_FIELDS)
        session.add(rule)
        session.flush()  # the id, for the audit snapshot and the replanning
        audit.record(
            session, actor, "create", "escalation_rule", rule.id, snapshot(rule, RULE_FIELDS)
        )
        replan_tenant(session, actor.tenant_id)
        uow.commit()
        return rule


def update_escalation_rule(
    uow: UnitOfWork,
    actor: Actor,
    rule_id: uuid.UUID,
    expected_version: int,
    changes: Mapping[str, Any],
) -> EscalationRule:
    with uow:
        session = uow.session
        rule = access_escalation_rule(session, actor, rule_id)
        check_version(rule, expected_version)
        merged = {name: getattr(rule, name) for name in RULE_FIELDS}
        merged.update({k: v for k, v in changes.items() if k in RULE_FIELDS})
        _check(session, actor, merged)
        diff = apply_changes(rule, changes, RULE_FIELDS)
        audit.record(session, actor, "update", "escalation_rule", rule.id, diff)
        session.flush()  # the replanning reads the rules back
        replan_tenant(session, actor.tenant_id)
        uow.commit()
        return rule


def delete_escalation_rule(
    uow: UnitOfWork, actor: Actor, rule_id: uuid.UUID, expected_version: int
) -> None:
    with uow:
        session = uow.session
        rule = access_escalation_rule(session, actor, rule_id)
        check_version(rule, expected_version)
        audit.record(session, actor, "delete", "escalation_rule", rule.id, snapshot(rule, ["name"]))
        session.delete(rule)
        session.flush()
        replan_tenant(session, actor.tenant_id)
        uow.commit()


def replan_tenant(session: Session, tenant_id: uuid.UUID) -> int:
    """Every open order of the tenant gets its next check from the rules as they are now."""
    rules = escalating.active_rules(session, tenant_id)
    orders = session.scalars(
        select(WorkOrder).where(
            WorkOrder.tenant_id == tenant_id, WorkOrder.status.not_in(escalating.STOPPED)
        )
    ).all()
    for order in orders:
        escalating.reschedule(session, order, rules)
    return len(orders)


def _check(session: Session, actor: Actor, values: Mapping[str, Any]) -> None:
    problems = [FieldProblem(p.field, "invalid", p.message) for p in check_rule(values)]
    if values.get("category_id") is not None:
        mine = exists().where(
            Category.id == values["category_id"], Category.tenant_id == actor.tenant_id
        )
        if not session.scalar(select(mine)):
            problems.append(FieldProblem("category_id", "not_found", "No such category"))
    if values.get("team_id") is not None:
        mine = exists().where(Team.id == values["team_id"], Team.tenant_id == actor.tenant_id)
        if not session.scalar(select(mine)):
            problems.append(FieldProblem("team_id", "not_found", "No such team"))
    if not problems:
        return
    if all(p.field in {"category_id", "team_id"} for p in problems):
        raise ValidationFailed(errors=problems)
    raise EscalationRuleInvalid("; ".join(p.message for p in problems), errors=problems)
