"""Creating and editing work orders. Each use case owns one unit of work and audits it.

Status and assignee never change here: only transitions
(:mod:`api.workorders.transitions`) move an order through its life. Every id a
request names (customer, site, assets, category) is resolved inside the
caller's tenant and role scope, so nobody can attach what they cannot see.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from api.assets.repeats import check_repeats
from api.audit import services as audit
from api.audit.changes import apply_changes, jsonable, snapshot
from api.auth.actor import Actor
from api.auth.permissions import Role
from api.categories.models import MAX_DEPTH
from api.categories.skills import duplicate_problems
from api.customers.queries import access_customer
from api.db import UnitOfWork, utcnow
from api.db.checks import check_version, ensure_unused_id, pick
from api.dispatching.requests import request_dispatch
from api.duplicates.detection import find_duplicates
from api.errors.base import FieldProblem
from api.errors.common import ValidationFailed
from api.servicedesk import clocks as sla_clocks
from api.servicedesk import prioritising
from api.sync import capture
from api.sync import clock as sync_clock
from api.tenants.services import next_number
from api.workorders import queries
from api.workorders.errors import WorkOrderLocked
from api.workorders.models import WorkOrder, WorkOrderAsset
from api.workorders.queries import WorkOrderView
from api.workorders.stamps import party_of_actor, stamp_fields
from api.workorders.states import Status
from api.workorders.transitions import append_history
from sync_protocol.ownership import WORK_ORDER_FIELDS

UPDATE_FIELDS = frozenset(
    {
        "title",
        "description",
        "priority",
        "category_id",
        "requested_start",
        "requested_end",
        "scheduled_start",
        "scheduled_end",
        "complaint",
        "amount",
        "required_skills",
    }
)
CREATE_FIELDS = UPDATE_FIELDS | {"source"}
# Fields with an LWW register (PROTOCOL.md § 8.2): every write stamps them.
STAMPED = frozenset(name for name, spec in WORK_ORDER_FIELDS.items() if spec.patchable)
# The schedule and the priority belong to the dispatcher; a customer asks for a
# window and describes the problem (every customer would choose "urgent").
# sla_due_at belongs to nobody but the server (api.servicedesk.clocks).
OFFICE_ONLY_FIELDS = frozenset(
    {
        "scheduled_start",
        "scheduled_end",
        "source",
        "priority",
        "complaint",
        "amount",
        "required_skills",
    }
)
# What the SLA clocks and the escalation rules read: a change recomputes them.
SERVICE_DESK_FACTS = frozenset({"priority", "category_id", "complaint", "amount"})
AUDITED_FIELDS = CREATE_FIELDS | {"number", "customer_id", "site_id", "status"}

_WINDOWS = (("requested_start", "requested_end"), ("scheduled_start", "scheduled_end"))


def create_work_order(uow: UnitOfWork, actor: Actor, data: Mapping[str, Any]) -> WorkOrderView:
    with uow:
        session = uow.session
        _refuse_office_fields(actor, data)
        data = _sorted_skills(data)
        customer = access_customer(session, actor, data["customer_id"])
        ensure_unused_id(session, WorkOrder, data.get("id"))
        asset_ids = _unique(data.get("asset_ids") or [])
        problems = reference_problems(session, actor, customer.id, data, asset_ids)
        if problems:
            raise ValidationFailed(errors=problems)
        order = WorkOrder(
            tenant_id=actor.tenant_id,
            number=f"WO-{next_number(session, actor.tenant_id, 'work_order'):06d}",
            customer_id=customer.id,
            site_id=data["site_id"],
            status=Status.NEW,
            # A person, never an API key: notifications go to created_by.
            created_by=actor.user_id,
        )
        if data.get("id"):
            order.id = data["id"]
        given = pick(data, CREATE_FIELDS)
        apply_changes(order, given, CREATE_FIELDS)
        stamp_fields(order, sorted(given.keys() & STAMPED), sync_clock.now(), party_of_actor(actor))
        session.add(order)
        # The caller's priority is a request; the tenant's priority rules decide.
        requested = getattr(data.get("priority"), "value", data.get("priority"))
        decision = prioritising.prioritise(session, order, requested)
        sla_clocks.refresh(session, order)  # before the INSERT, so the order starts at version 1
        session.flush()  # defaults (priority, source) and the id, for links and the snapshot
        if decision is not None:
            prioritising.record(session, order, decision, requested)
        record_creation(session, actor, order, asset_ids)
        view = queries.present(session, actor, [order])[0]
        uow.commit()
        return view


def record_creation(
    session: Session,
    actor: Actor,
    order: WorkOrder,
    asset_ids: Sequence[uuid.UUID],
    at: datetime | None = None,
) -> None:
    """What every new order goes through once its row is flushed, however it was made
    (the API, a repair request, a device's ``create_work_order`` synced late): its
    asset links, the ``create`` step of its history (``at``: when the device made it),
    the tenant's dispatch policy (one outbox message, :mod:`api.dispatching.requests`),
    the repeat-issue and duplicate checks, and the audit entry. Called once per order:
    a replayed create never gets here (the sync push answers it ``duplicate``)."""
    link_assets(session, order, asset_ids)
    append_history(session, actor, order, "create", None, reason=None, at=at)
    request_dispatch(session, order)
    check_repeats(session, actor, order, asset_ids)
    find_duplicates(session, order, asset_ids)
    changes = snapshot(order, AUDITED_FIELDS)
    changes["asset_ids"] = {"after": jsonable(sorted(asset_ids))}
    audit.record(session, actor, "create", "work_order", order.id, changes)


def update_work_order(
    uow: UnitOfWork,
    actor: Actor,
    work_order_id: uuid.UUID,
    expected_version: int,
    changes: Mapping[str, Any],
) -> WorkOrderView:
    with uow:
        session = uow.session
        _refuse_office_fields(actor, changes)
        changes = _sorted_skills(changes)
        order = queries.access_work_order(session, actor, work_order_id, for_update=True)
        check_version(order, expected_version)
        if order.status in (Status.CLOSED, Status.CANCELLED):
            raise WorkOrderLocked()  # the record of a finished job changes only by reopening
        fields = pick(changes, UPDATE_FIELDS)
        problems: list[FieldProblem] = []
        if fields.get("category_id") is not None and fields["category_id"] != order.category_id:
            problems += category_problems(session, actor, fields["category_id"])
        new_assets = _unique(changes["asset_ids"]) if "asset_ids" in changes else None
        if new_assets is not None:
            problems += _asset_problems(session, actor, order.site_id, new_assets)
        diff = apply_changes(order, fields, UPDATE_FIELDS)
        stamp_fields(order, sorted(diff.keys() & STAMPED), sync_clock.now(), party_of_actor(actor))
        problems += _window_problems({k: getattr(order, k) for pair in _WINDOWS for k in pair})
        if problems:
            raise ValidationFailed(errors=problems)
        if new_assets is not None:
            diff.update(_replace_assets(session, order, new_assets))
        if diff.keys() & SERVICE_DESK_FACTS:
            sla_clocks.refresh(session, order)
        audit.record(session, actor, "update", "work_order", order.id, diff)
        view = queries.present(session, actor, [order])[0]
        uow.commit()
        return view


def _refuse_office_fields(actor: Actor, data: Mapping[str, Any]) -> None:
    if actor.role is not Role.CUSTOMER_CONTACT:
        return
    refused = sorted(OFFICE_ONLY_FIELDS & data.keys())
    if refused:
        raise ValidationFailed(
            errors=[
                FieldProblem(name, "not_allowed", "Set by the dispatcher, not the customer")
                for name in refused
            ]
        )


def _sorted_skills(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The order's own skills sorted by name (one spelling, one diff); each once."""
    if data.get("required_skills") is None:
        return data
    problems = duplicate_problems(data["required_skills"], "required_skills")
    if problems:
        raise ValidationFailed(errors=problems)
    wanted = sorted(({"skill": i["skill"], "level": i["level"]} for i in data["required_skills"]),
                    key=lambda item: item["skill"])  # fmt: skip
    return {**data, "required_skills": wanted}


def reference_problems(
    session: Session,
    actor: Actor,
    customer_id: uuid.UUID,
    data: Mapping[str, Any],
    asset_ids: Sequence[uuid.UUID],
) -> list[FieldProblem]:
    problems = _site_problems(session, actor, customer_id, data["site_id"])
    if not problems:  # assets are checked against the site only once the site is sound
        problems = _asset_problems(session, actor, data["site_id"], asset_ids)
    problems += category_problems(session, actor, data.get("category_id"))
    return problems + _window_problems(data)


def _replace_assets(
    session: Session, order: WorkOrder, asset_ids: Sequence[uuid.UUID]
) -> dict[str, dict[str, Any]]:
    """Swap the order's asset links; the audit diff entry if anything changed."""
    before = queries.asset_ids_of(session, order)
    after = sorted(asset_ids)
    if after == before:
        return {}
    session.execute(delete(WorkOrderAsset).where(WorkOrderAsset.work_order_id == order.id))
    capture.mark_structural(session, order.tenant_id)  # the delete bypasses the ORM's events
    link_assets(session, order, asset_ids)
    # The links live in another table; touching the row bumps its version and
    # updated_at, so ETags and `updated_since` syncs notice the change.
    order.updated_at = utcnow()
    return {"asset_ids": {"before": jsonable(before), "after": jsonable(after)}}


def _site_problems(
    session: Session, actor: Actor, customer_id: uuid.UUID, site_id: uuid.UUID
) -> list[FieldProblem]:
    site = queries.find_site(session, actor, site_id)
    if site is None:
        return [FieldProblem("site_id", "not_found", "No such site")]
    if site.customer_id != customer_id:
        return [FieldProblem("site_id", "wrong_customer", "The site belongs to another customer")]
    if not site.active:
        return [FieldProblem("site_id", "inactive", "The site is deactivated")]
    return []


def _asset_problems(
    session: Session, actor: Actor, site_id: uuid.UUID, asset_ids: Sequence[uuid.UUID]
) -> list[FieldProblem]:
    found = {asset.id: asset for asset in queries.find_assets(session, actor, asset_ids)}
    if len(found) < len(asset_ids):
        return [FieldProblem("asset_ids", "not_found", "No such asset")]
    if any(asset.site_id != site_id for asset in found.values()):
        return [FieldProblem("asset_ids", "not_at_site", "Every asset must be at the order's site")]
    return []


def category_problems(
    session: Session, actor: Actor, category_id: uuid.UUID | None
) -> list[FieldProblem]:
    if category_id is None:
        return []
    category = queries.find_category(session, actor, category_id)
    if category is None:
        return [FieldProblem("category_id", "not_found", "No such category")]
    if category.level != MAX_DEPTH:
        return [FieldProblem("category_id", "not_leaf", "Choose a third-level category")]
    if not category.active:
        return [FieldProblem("category_id", "inactive", "The category is deactivated")]
    return []


def _window_problems(values: Mapping[str, Any]) -> list[FieldProblem]:
    return [
        FieldProblem(end, "out_of_range", f"{end} is before {start}")
        for start, end in _WINDOWS
        if values.get(start) and values.get(end) and values[end] < values[start]
    ]


def link_assets(session: Session, order: WorkOrder, asset_ids: Sequence[uuid.UUID]) -> None:
    session.add_all(
        WorkOrderAsset(tenant_id=order.tenant_id, work_order_id=order.id, asset_id=asset_id)
        for asset_id in asset_ids
    )


def _unique(ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    return list(dict.fromkeys(ids))
