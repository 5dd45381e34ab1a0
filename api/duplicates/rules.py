"""The duplicate rule: when two work orders are likely the same problem reported twice.

Pure (no database): :func:`match` takes two orders' facts and the tenant's
settings and says whether the office should be asked, with a score and the
reasons a dispatcher reads. The rule, in order:

1. Same tenant and same customer, always: two customers never share a problem,
   however alike their words.
2. The same site (assets belong to a site, so a shared asset implies it).
3. Created within the tenant's window of each other (``window``).
4. A score of at least ``min_score`` (0-100): the text similarity of title and
   description (:mod:`api.duplicates.similarity`), plus 20 points when the
   orders name an asset in common and 10 when they have the same category,
   capped at 100. An order about the same machine needs fewer words in common.

Every step is symmetric, so ``match(a, b) == match(b, a)``: whichever order
arrived first, the pair is the same suggestion.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from api.duplicates.similarity import similarity

ASSET_BONUS = 20
CATEGORY_BONUS = 10


@dataclass(frozen=True)
class OrderFacts:
    """What the rule reads of an order."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    customer_id: uuid.UUID
    site_id: uuid.UUID
    created_at: datetime
    text: str  # title and description
    asset_ids: frozenset[uuid.UUID] = frozenset()
    category_id: uuid.UUID | None = None


@dataclass(frozen=True)
class DuplicateSettings:
    window: timedelta = timedelta(hours=72)
    min_score: int = 60


@dataclass(frozen=True)
class Match:
    score: int  # 0-100
    reasons: tuple[str, ...]  # "same_site", "same_asset", "same_category", "similar_text"


def match(a: OrderFacts, b: OrderFacts, settings: DuplicateSettings) -> Match | None:
    """The suggestion for this pair, or None when they are not likely duplicates."""
    if a.id == b.id or a.tenant_id != b.tenant_id or a.customer_id != b.customer_id:
        return None
    if a.site_id != b.site_id or abs(a.created_at - b.created_at) > settings.window:
        return None
    text = similarity(a.text, b.text)
    score = round(100 * text)
    reasons = ["same_site"]
    if a.asset_ids & b.asset_ids:
        score += ASSET_BONUS
        reasons.append("same_asset")
    if a.category_id is not None and a.category_id == b.category_id:
        score += CATEGORY_BONUS
        reasons.append("same_category")
    if text >= 0.5:
        reasons.append("similar_text")
    score = min(score, 100)
    if score < settings.min_score:
        return None
    return Match(score, tuple(reasons))


def order_text(title: str, description: str | None) -> str:
    return f"{title}\n{description or ''}"
