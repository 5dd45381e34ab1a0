"""Applying a tenant's priority rules to a new order, and their dry run over recent orders."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.categories.models import Category
from api.customers.models import Customer
from api.db import utcnow
from api.servicedesk.models import PriorityDecision, PriorityRule
from api.servicedesk.priority_rules import Decision, Rule, decide, facts_of
from api.servicedesk.rule_versions import current_number
from api.workorders.models import WorkOrder
from api.workorders.states import Priority


def active_rules(session: Session, tenant_id: Any) -> list[Rule]:
    rows = session.scalars(
        select(PriorityRule)
        .where(PriorityRule.tenant_id == tenant_id, PriorityRule.active.is_(True))
        .order_by(PriorityRule.position, PriorityRule.id)
    )
    return [Rule(r.id, r.name, r.logic, r.priority) for r in rows]


def facts_for(session: Session, order: WorkOrder, requested: str | None) -> dict[str, Any]:
    codes: list[str] = []
    category_id = order.category_id
    while category_id is not None and len(codes) < 8:
        category = session.get(Category, category_id)
        if category is None:
            break
        codes.insert(0, category.code)
        category_id = category.parent_id
    tier = session.scalar(select(Customer.tier).where(Customer.id == order.customer_id))
    return facts_of(
        category_codes=codes,
        customer_tier=str(tier),
        title=order.title,
        description=order.description,
        channel=order.source or "api",
        requested_priority=requested,
    )


def prioritise(session: Session, order: WorkOrder, requested: str | None) -> Decision | None:
    """Give a new order the priority of the first rule that holds (before its INSERT)."""
    with session.no_autoflush:
        rules = active_rules(session, order.tenant_id)
        if not rules:
            return None
        decision = decide(rules, facts_for(session, order, requested))
    if decision is not None:
        order.priority = Priority(decision.priority)
    return decision


def record(session: Session, order: WorkOrder, decision: Decision, requested: str | None) -> None:
    """Keep the explanation (after the order's INSERT: the row refers to it)."""
    session.add(
        PriorityDecision(
            tenant_id=order.tenant_id,
            work_order_id=order.id,
            rule_id=decision.rule.id,
            rule_name=decision.rule.name,
            rule_set_version=current_number(session, order.tenant_id),
            requested_priority=requested,
            priority=decision.priority,
            decided_at=utcnow(),
        )
    )
