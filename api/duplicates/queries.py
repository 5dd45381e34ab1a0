"""Reading suggestions, links and the merged timeline: tenant-scoped, ``select()`` only.

Every read starts from :func:`api.workorders.queries.access_work_order`, so an
order the caller may not see is a 404 before any of its suggestions is looked at.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.duplicates.errors import SuggestionNotFound
from api.duplicates.models import MERGED_INTO, OPEN, DuplicateSuggestion, WorkOrderLink
from api.http.pagination import Page, paginate
from api.workorders.models import StatusChange, WorkOrder
from api.workorders.queries import access_work_order
from api.workorders.states import Status

# Merges nest (a duplicate of a duplicate); a timeline follows this many levels.
MAX_MERGE_DEPTH = 8


@dataclass(frozen=True)
class OrderSummary:
    id: uuid.UUID
    number: str
    title: str
    status: Status
    created_at: datetime


@dataclass(frozen=True)
class SuggestionView:
    id: uuid.UUID
    work_order_id: uuid.UUID
    other: OrderSummary
    score: int
    reasons: list[str]
    state: str
    created_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True)
class LinkView:
    kind: str
    direction: str  # "outgoing": this order → other; "incoming": other → this order
    other: OrderSummary
    created_at: datetime


def access_suggestion(
    session: Session, actor: Actor, suggestion_id: uuid.UUID
) -> DuplicateSuggestion:
    found = session.scalars(
        select(DuplicateSuggestion).where(
            DuplicateSuggestion.id == suggestion_id,
            DuplicateSuggestion.tenant_id == actor.tenant_id,
        )
    ).one_or_none()
    if found is None:
        raise SuggestionNotFound()
    return found


def list_suggestions(
    session: Session,
    actor: Actor,
    work_order_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
    state: list[str] | None = None,
) -> Page:
    """Suggestions naming this order on either side, newest first (default: open ones)."""
    access_work_order(session, actor, work_order_id)
    stmt = select(DuplicateSuggestion).where(
        DuplicateSuggestion.tenant_id == actor.tenant_id,
        or_(
            DuplicateSuggestion.work_order_id == work_order_id,
            DuplicateSuggestion.candidate_id == work_order_id,
        ),
        DuplicateSuggestion.state.in_(state or [OPEN]),
    )
    page = paginate(
        session, stmt, DuplicateSuggestion.id, limit=limit, cursor=cursor, descending=True
    )
    return Page(
        items=[suggestion_view(session, row, work_order_id) for row in page.items],
        next_cursor=page.next_cursor,
    )


def suggestion_view(
    session: Session, row: DuplicateSuggestion, seen_from: uuid.UUID
) -> SuggestionView:
    other_id = row.candidate_id if row.work_order_id == seen_from else row.work_order_id
    return SuggestionView(
        id=row.id,
        work_order_id=seen_from,
        other=summaries(session, row.tenant_id, [other_id])[other_id],
        score=row.score,
        reasons=list(row.reasons),
        state=row.state,
        created_at=row.created_at,
        decided_at=row.decided_at,
    )


def list_links(session: Session, actor: Actor, work_order_id: uuid.UUID) -> list[LinkView]:
    """What this order was merged into or took in, the repeats behind a preventive order
    and the preventive order a repeat opened; oldest first."""
    access_work_order(session, actor, work_order_id)
    rows = session.scalars(
        select(WorkOrderLink)
        .where(
            WorkOrderLink.tenant_id == actor.tenant_id,
            or_(
                WorkOrderLink.work_order_id == work_order_id,
                WorkOrderLink.linked_id == work_order_id,
            ),
        )
        .order_by(WorkOrderLink.created_at, WorkOrderLink.work_order_id)
    ).all()
    others = [r.linked_id if r.work_order_id == work_order_id else r.work_order_id for r in rows]
    known = summaries(session, actor.tenant_id, others)
    return [
        LinkView(
            kind=row.kind,
            direction="outgoing" if row.work_order_id == work_order_id else "incoming",
            other=known[other],
            created_at=row.created_at,
        )
        for row, other in zip(rows, others, strict=True)
    ]


def timeline(
    session: Session, actor: Actor, work_order_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page:
    """Status changes of this order and of every order merged into it (and into those),
    in the order they happened; each row names its own order."""
    access_work_order(session, actor, work_order_id)
    orders = merged_family(session, actor.tenant_id, work_order_id)
    stmt = select(StatusChange).where(
        StatusChange.tenant_id == actor.tenant_id, StatusChange.work_order_id.in_(orders)
    )
    return paginate(
        session, stmt, StatusChange.id, limit=limit, cursor=cursor, after=StatusChange.occurred_at
    )


def merged_family(session: Session, tenant_id: uuid.UUID, primary_id: uuid.UUID) -> list[uuid.UUID]:
    """The primary and every order merged into it, directly or through another merged order."""
    family, frontier = [primary_id], [primary_id]
    for _ in range(MAX_MERGE_DEPTH):
        frontier = list(
            session.scalars(
                select(WorkOrderLink.work_order_id).where(
                    WorkOrderLink.tenant_id == tenant_id,
                    WorkOrderLink.kind == MERGED_INTO,
                    WorkOrderLink.linked_id.in_(frontier),
                )
            )
        )
        if not frontier:
            break
        family += frontier
    return family


def summaries(
    session: Session, tenant_id: uuid.UUID, order_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, OrderSummary]:
    if not order_ids:
        return {}
    rows = session.execute(
        select(
            WorkOrder.id, WorkOrder.number, WorkOrder.title, WorkOrder.status, WorkOrder.created_at
        ).where(WorkOrder.tenant_id == tenant_id, WorkOrder.id.in_(list(set(order_ids))))
    )
    return {row.id: OrderSummary(*row) for row in rows}


def flags(
    session: Session, tenant_id: uuid.UUID, order_ids: Collection[uuid.UUID]
) -> tuple[dict[uuid.UUID, int], dict[uuid.UUID, uuid.UUID]]:
    """Per order: how many open duplicate suggestions name it, and what it was merged into."""
    if not order_ids:
        return {}, {}
    ids = list(order_ids)
    counts: dict[uuid.UUID, int] = {}
    for side in (DuplicateSuggestion.work_order_id, DuplicateSuggestion.candidate_id):
        rows = session.execute(
            select(side, func.count())
            .where(
                DuplicateSuggestion.tenant_id == tenant_id,
                side.in_(ids),
                DuplicateSuggestion.state == OPEN,
            )
            .group_by(side)
        )
        for order_id, count in rows:
            counts[order_id] = counts.get(order_id, 0) + count
    merged = dict(
        session.execute(
            select(WorkOrderLink.work_order_id, WorkOrderLink.linked_id).where(
                WorkOrderLink.tenant_id == tenant_id,
                WorkOrderLink.kind == MERGED_INTO,
                WorkOrderLink.work_order_id.in_(ids),
            )
        ).tuples()
    )
    return counts, merged
