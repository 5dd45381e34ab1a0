"""Merging a duplicate work order into its primary: an office decision, never automatic.

The duplicate is cancelled through the status state machine (action ``cancel``,
reason ``duplicate``), so it leaves the trail any cancellation leaves: a history
row, an audit event, the ``work_order.status_changed`` outbox message, SLA clocks
stopped, and devices that hold it pull the cancelled row as usual. Nothing of it
is deleted or moved: its history, notes and evidence stay where they are,
reachable from the primary through the ``merged_into`` link
(:func:`api.duplicates.queries.timeline`, ``GET /v1/work-orders/{id}/links``).
Both orders' audit chains record the merge.

Idempotent: merging an order again into the primary it was merged into answers
as the first merge did and changes nothing (a retry after a lost response);
into another primary it is ``duplicate.already_merged``.
"""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.auth.actor import Actor
from api.db import UnitOfWork, utcnow
from api.db.checks import check_version
from api.duplicates.errors import AlreadyMerged, MergeIntoItself, OtherCustomer, PrimaryFinished
from api.duplicates.models import MERGED, MERGED_INTO, OPEN, DuplicateSuggestion, WorkOrderLink
from api.sync import clock as sync_clock
from api.workorders import queries, rules
from api.workorders.models import WorkOrder
from api.workorders.queries import WorkOrderView
from api.workorders.rules import Action
from api.workorders.states import Status
from api.workorders.transitions import carry_out

REASON = "duplicate"


def merge_work_order(
    uow: UnitOfWork,
    actor: Actor,
    duplicate_id: uuid.UUID,
    primary_id: uuid.UUID,
    expected_version: int,
) -> WorkOrderView:
    """Merge ``duplicate_id`` into ``primary_id``; the duplicate as it now is."""
    with uow:
        session = uow.session
        if duplicate_id == primary_id:
            raise MergeIntoItself()
        duplicate, primary = _lock_both(session, actor, duplicate_id, primary_id)
        earlier = merged_into(session, duplicate.id)
        if earlier == primary.id:
            return queries.present(session, actor, [duplicate])[0]  # already done: a retry
        if earlier is not None:
            raise AlreadyMerged(extra={"merged_into_id": str(earlier)})
        check_version(duplicate, expected_version)
        if primary.customer_id != duplicate.customer_id:
            raise OtherCustomer()
        if primary.status is Status.CANCELLED:
            raise PrimaryFinished()
        plan = rules.plan_transition(
            duplicate.status,
            Action.CANCEL,
            actor.role,
            is_assignee=queries.is_assignee(actor, duplicate),
            has_assignee=duplicate.assignee_id is not None,
        )
        command = {"action": Action.CANCEL.value, "reason": REASON}
        carry_out(session, actor, duplicate, plan, command, sync_clock.now())
        session.add(
            WorkOrderLink(
                tenant_id=actor.tenant_id,
                work_order_id=duplicate.id,
                linked_id=primary.id,
                kind=MERGED_INTO,
                created_by=actor.principal_id,
            )
        )
        _settle_suggestions(session, actor, duplicate.id)
        merged = {"merged_into_id": {"after": str(primary.id)}, "number": {"after": primary.number}}
        audit.record(session, actor, "merge", "work_order", duplicate.id, merged)
        taken = {"merged_id": {"after": str(duplicate.id)}, "number": {"after": duplicate.number}}
        audit.record(session, actor, "merge", "work_order", primary.id, taken)
        view = queries.present(session, actor, [duplicate])[0]
        uow.commit()
        return view


def merged_into(session: Session, work_order_id: uuid.UUID) -> uuid.UUID | None:
    found: uuid.UUID | None = session.scalar(
        select(WorkOrderLink.linked_id).where(
            WorkOrderLink.work_order_id == work_order_id, WorkOrderLink.kind == MERGED_INTO
        )
    )
    return found


def _lock_both(
    session: Session, actor: Actor, duplicate_id: uuid.UUID, primary_id: uuid.UUID
) -> tuple[WorkOrder, WorkOrder]:
    # In id order, so two opposite merges of one pair queue up instead of deadlocking.
    locked = {
        order_id: queries.access_work_order(session, actor, order_id, for_update=True)
        for order_id in sorted((duplicate_id, primary_id))
    }
    return locked[duplicate_id], locked[primary_id]


def _settle_suggestions(session: Session, actor: Actor, duplicate_id: uuid.UUID) -> None:
    """Every open suggestion naming the duplicate is settled by the merge."""
    session.execute(
        update(DuplicateSuggestion)
        .where(
            DuplicateSuggestion.tenant_id == actor.tenant_id,
            DuplicateSuggestion.state == OPEN,
            or_(
                DuplicateSuggestion.work_order_id == duplicate_id,
                DuplicateSuggestion.candidate_id == duplicate_id,
            ),
        )
        .values(state=MERGED, decided_at=utcnow(), decided_by=actor.principal_id)
    )
