"""Priority rule use cases: save (checked now, never at an order's creation), and the dry run."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.audit.changes import apply_changes, snapshot
from api.auth.actor import Actor
from api.db import UnitOfWork
from api.db.checks import check_version, ensure_unused_id
from api.errors.base import FieldProblem
from api.servicedesk.errors import RuleInvalid, RuleNotFound
from api.servicedesk.models import PriorityRule
from api.servicedesk.prioritising import active_rules, facts_for
from api.servicedesk.priority_rules import Rule, check_logic, decide
from api.servicedesk.rule_versions import access_version, record_version, rules_of
from api.workorders.models import WorkOrder

RULE_FIELDS = frozenset({"name", "position", "logic", "priority", "active"})


def access_rule(session: Session, actor: Actor, rule_id: uuid.UUID) -> PriorityRule:
    found = session.scalars(
        select(PriorityRule).where(
            PriorityRule.id == rule_id, PriorityRule.tenant_id == actor.tenant_id
        )
    ).one_or_none()
    if found is None:
        raise RuleNotFound()
    return found


def create_rule(uow: UnitOfWork, actor: Actor, data: Mapping[str, Any]) -> PriorityRule:
    with uow:
        session = uow.session
        ensure_unused_id(session, PriorityRule, data.get("id"))
        _check("logic", data["logic"])
        rule = PriorityRule(tenant_id=actor.tenant_id)
        if data.get("id"):
            rule.id = data["id"]
        apply_changes(rule, {k: v for k, v in data.items() if k in RULE_FIELDS}, RULE_FIELDS)
        session.add(rule)
        session.flush()  # the id, for the audit snapshot
        audit.record(
            session, actor, "create", "priority_rule", rule.id, snapshot(rule, RULE_FIELDS)
        )
        record_version(session, actor, "create")
        uow.commit()
        return rule


def update_rule(
    uow: UnitOfWork,
    actor: Actor,
    rule_id: uuid.UUID,
    expected_version: int,
    changes: Mapping[str, Any],
) -> PriorityRule:
    with uow:
        session = uow.session
        rule = access_rule(session, actor, rule_id)
        check_version(rule, expected_version)
        if "logic" in changes:
            _check("logic", changes["logic"])
        diff = apply_changes(rule, changes, RULE_FIELDS)
        audit.record(session, actor, "update", "priority_rule", rule.id, diff)
        if diff:
            record_version(session, actor, "update")
        uow.commit()
        return rule


def delete_rule(uow: UnitOfWork, actor: Actor, rule_id: uuid.UUID, expected_version: int) -> None:
    with uow:
        session = uow.session
        rule = access_rule(session, actor, rule_id)
        check_version(rule, expected_version)
        audit.record(session, actor, "delete", "priority_rule", rule.id, snapshot(rule, ["name"]))
        session.delete(rule)
        record_version(session, actor, "delete")
        uow.commit()


def dry_run(session: Session, actor: Actor, args: Mapping[str, Any]) -> dict[str, Any]:
    """What a rule set (given, a saved version, or the current rules) would give the
    tenant's most recent orders."""
    if args.get("version") is not None:
        rules = rules_of(access_version(session, actor, number=args["version"]))
    elif args.get("rules") is not None:
        for index, item in enumerate(args["rules"]):
            _check(f"rules[{index}].logic", item["logic"])
        rules = [Rule(None, r["name"], r["logic"], r["priority"]) for r in args["rules"]]
    else:
        rules = active_rules(session, actor.tenant_id)
    orders = session.scalars(
        select(WorkOrder)
        .where(WorkOrder.tenant_id == actor.tenant_id)
        .order_by(WorkOrder.id.desc())
        .limit(args["limit"])
    )
    items = []
    for order in orders:
        current = str(order.priority)
        decision = decide(rules, facts_for(session, order, current))
        items.append(
            {
                "work_order_id": order.id,
                "number": order.number,
                "current_priority": current,
                "priority": decision.priority if decision else current,
                "rule": decision.rule.name if decision else None,
            }
        )
    return {"items": items}


def _check(field: str, logic: Any) -> None:
    problems = check_logic(logic)
    if problems:
        raise RuleInvalid(
            "; ".join(problems), errors=[FieldProblem(field, "invalid_format", problems[0])]
        )
