"""Which SLA policy applies to an order: the most specific match wins. Pure rules.

A policy names any of a priority, a category (matching that category and every
category below it) and a customer tier; a criterion it leaves empty matches
anything. Among the policies that match, the one naming more criteria wins;
then the deeper category; then category over tier over priority. The service
refuses two policies with the same criteria, so the choice is never a coin toss.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PolicyCriteria:
    id: uuid.UUID
    priority: str | None
    category_id: uuid.UUID | None
    category_level: int  # 0 when no category
    customer_tier: str | None


@dataclass(frozen=True)
class OrderFacts:
    priority: str
    category_path: Sequence[uuid.UUID]  # root first; empty when uncategorised
    customer_tier: str


def choose(policies: Iterable[PolicyCriteria], order: OrderFacts) -> uuid.UUID | None:
    """The id of the most specific policy that matches, or None."""
    best: tuple[tuple[int, ...], uuid.UUID] | None = None
    for policy in policies:
        if not _matches(policy, order):
            continue
        rank = _specificity(policy)
        if best is None or rank > best[0]:
            best = (rank, policy.id)
    return None if best is None else best[1]


def _matches(policy: PolicyCriteria, order: OrderFacts) -> bool:
    return (
        (policy.priority is None or policy.priority == order.priority)
        and (policy.category_id is None or policy.category_id in order.category_path)
        and (policy.customer_tier is None or policy.customer_tier == order.customer_tier)
    )


def _specificity(policy: PolicyCriteria) -> tuple[int, ...]:
    named = (
        policy.category_id is not None,
        policy.customer_tier is not None,
        policy.priority is not None,
    )
    return (sum(named), policy.category_level, *(int(flag) for flag in named))
