"""About 300 demo work orders in every status, with their history and notes.

Each order is drafted first (customer, site, asset, symptom, priority, its life
story), then all drafts are written oldest first, so numbers (``WO-000001``…, from
the tenant counter that later API creates continue) and UUIDv7 ids both follow
creation time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from api.assets.models import Asset
from api.categories.models import Category
from api.customers.models import CustomerTier
from api.db import new_id
from api.demo.accounts import Account, SiteBundle
from api.demo.context import DemoContext
from api.demo.equipment import DOMAIN_SKILLS, EQUIPMENT
from api.demo.lifecycle import Event, People, final_assignee, plan_actions, schedule, walk
from api.demo.staff import Staff
from api.demo.taxonomy import TAXONOMY, URGENT_LEAVES
from api.demo.texts import (
    CUSTOMER_NOTES,
    DISPATCH_NOTES,
    DONE_NOTES,
    ERROR_CODES,
    LEAF_TEXTS,
    ON_THE_WAY_NOTES,
    PAUSE_NOTES,
)
from api.technicians.models import Technician
from api.tenants.services import next_number
from api.users.models import User
from api.workorders.models import Note, StatusChange, WorkOrder, WorkOrderAsset
from api.workorders.states import Priority, Status

S = Status
# Mostly finished work, a healthy open queue, a few stuck or cancelled.
STATUS_COUNTS = {
    S.CLOSED: 115,
    S.COMPLETED: 42,
    S.CANCELLED: 20,
    S.NEW: 32,
    S.ASSIGNED: 30,
    S.ACCEPTED: 15,
    S.EN_ROUTE: 8,
    S.ON_SITE: 6,
    S.IN_PROGRESS: 22,
    S.PAUSED: 10,
}
PRIORITIES = (Priority.URGENT, Priority.HIGH, Priority.MEDIUM, Priority.LOW)
PRIORITY_WEIGHTS = (5, 25, 50, 20)
ROUTINE = ("maintenance", "test_run", "inspection", "filter")
SLA_HOURS = {Priority.URGENT: 4, Priority.HIGH: 8, Priority.MEDIUM: 24, Priority.LOW: 72}
FLOORS = {"office": 38, "hotel": 25, "hospital": 12, "residential": 30, "mall": 6, "school": 5}
LEAVES_BY_DOMAIN = {
    domain.code: tuple(leaf.code for leaf in domain.children)
    for department in TAXONOMY
    for domain in department.children
}
# Symptoms whose texts make sense for an order that names no asset.
ASSETLESS_LEAVES = tuple(
    code for code, texts in LEAF_TEXTS.items() if not any("{asset}" in t for t in texts)
)
HALF_HOUR = timedelta(minutes=30)


@dataclass
class Draft:
    account: Account
    bundle: SiteBundle
    assets: list[Asset]
    leaf: str
    priority: Priority
    texts: tuple[str, str, str]  # title, description, resolution
    status: Status
    events: list[Event]
    assignee: Technician | None
    source: str
    notes: list[tuple[datetime, str, str, User]]  # (at, body, visibility, author)


def build_work_orders(
    ctx: DemoContext, staff: Staff, accounts: list[Account], categories: dict[str, Category]
) -> None:
    statuses = [status for status, count in STATUS_COUNTS.items() for _ in range(count)]
    ctx.rng.shuffle(statuses)
    drafts = [_draft(ctx, staff, accounts, status) for status in statuses]
    drafts.sort(key=lambda d: d.events[0].at)
    for draft in drafts:
        _write(ctx, draft, categories[draft.leaf])


def _draft(ctx: DemoContext, staff: Staff, accounts: list[Account], status: Status) -> Draft:
    rng = ctx.rng
    weights = [6 if a.login else 3 if a.customer.tier is CustomerTier.VIP else 1 for a in accounts]
    account = rng.choices(accounts, weights=weights)[0]
    bundle = rng.choice(account.sites)
    leaf, assets = _problem(ctx, bundle)
    priority = _priority(ctx, leaf, vip=account.customer.tier is CustomerTier.VIP)
    actions = plan_actions(ctx, status)
    skill = DOMAIN_SKILLS[leaf.rsplit(".", 1)[0]]
    tech = _technician(ctx, staff, skill, account) if "assign" in actions else None
    decliner = _technician(ctx, staff, skill, account, not_=tech) if "decline" in actions else None
    by_customer = account.login is not None and rng.random() < 0.5
    people = People(
        creator=account.login if by_customer and account.login else staff.dispatcher,
        creator_is_customer=by_customer,
        dispatcher=staff.dispatcher,
        assignee=staff.users[tech.id] if tech else None,
        decliner=staff.users[decliner.id] if decliner else None,
    )
    events = walk(ctx, actions, schedule(ctx, actions, status, priority is Priority.URGENT), people)
    return Draft(
        account=account,
        bundle=bundle,
        assets=assets,
        leaf=leaf,
        priority=priority,
        texts=_texts(ctx, leaf, account, assets),
        status=status,
        events=events,
        assignee=tech if final_assignee(actions) else None,
        source="web" if by_customer else rng.choice(("phone", "phone", "email")),
        notes=_notes(ctx, events, people),
    )


def _problem(ctx: DemoContext, bundle: SiteBundle) -> tuple[str, list[Asset]]:
    rng = ctx.rng
    if not bundle.assets or rng.random() < 0.2:
        return rng.choice(ASSETLESS_LEAVES), []
    asset, kind = rng.choice(bundle.assets)
    leaf = rng.choice(LEAVES_BY_DOMAIN[EQUIPMENT[kind].domain])
    same_kind = [a for a, k in bundle.assets if k == kind and a is not asset]
    if same_kind and rng.random() < 0.15:
        return leaf, [asset, rng.choice(same_kind)]  # e.g. both chillers serviced together
    return leaf, [asset]


def _priority(ctx: DemoContext, leaf: str, *, vip: bool) -> Priority:
    if leaf in URGENT_LEAVES:
        return Priority.URGENT
    if leaf.rsplit(".", 1)[1] in ROUTINE:
        return ctx.rng.choice((Priority.LOW, Priority.LOW, Priority.MEDIUM))
    priority = ctx.rng.choices(PRIORITIES, weights=PRIORITY_WEIGHTS)[0]
    if vip and priority is Priority.MEDIUM and ctx.rng.random() < 0.3:
        return Priority.HIGH
    return priority


def _technician(
    ctx: DemoContext, staff: Staff, skill: str, account: Account, not_: Technician | None = None
) -> Technician:
    """A qualified active technician, preferring the local team (and tech01, the demo login)."""
    active = [t for t in staff.technicians if t.active and t is not not_]
    qualified = [t for t in active if any(s.skill == skill for s in t.skills)] or active
    pudong_team = staff.technicians[0].team_id
    in_pudong = account.seed.district == "浦东新区"
    weights = [
        (3 if t is staff.technicians[0] else 1)
        * (2 if (t.team_id == pudong_team) == in_pudong else 1)
        for t in qualified
    ]
    return ctx.rng.choices(qualified, weights=weights)[0]


def _texts(
    ctx: DemoContext, leaf: str, account: Account, assets: list[Asset]
) -> tuple[str, str, str]:
    rng = ctx.rng
    params = {
        "asset": assets[0].name if assets else "",
        "floor": rng.randint(1, FLOORS.get(account.seed.kind, 4)) + 1,
        "n": rng.randint(2, 6),
        "temp": rng.randint(11, 16),
        "ctemp": rng.randint(8, 15),
        "hot": rng.randint(75, 110),
        "pct": rng.randint(60, 95),
        "code": rng.choice(ERROR_CODES),
    }
    title, description, resolution = (t.format(**params) for t in LEAF_TEXTS[leaf])
    return title, description, resolution


def _notes(
    ctx: DemoContext, events: list[Event], people: People
) -> list[tuple[datetime, str, str, User]]:
    rng = ctx.rng
    notes = []
    for event in events:
        at = min(ctx.now, event.at + ctx.minutes(2, 20))
        if event.action == "create" and people.creator_is_customer and rng.random() < 0.25:
            notes.append((at, rng.choice(CUSTOMER_NOTES), "customer", event.actor))
        elif event.action == "assign" and rng.random() < 0.1:
            notes.append((at, rng.choice(DISPATCH_NOTES), "internal", people.dispatcher))
        elif event.action == "start_travel" and rng.random() < 0.2:
            body = rng.choice(ON_THE_WAY_NOTES).format(n=rng.randint(2, 6))
            notes.append((at, body, "customer", event.actor))
        elif event.action == "pause" and rng.random() < 0.6:
            notes.append((at, rng.choice(PAUSE_NOTES), "internal", event.actor))
        elif event.action == "complete" and rng.random() < 0.25:
            notes.append((at, rng.choice(DONE_NOTES), "customer", event.actor))
    return notes


def _write(ctx: DemoContext, draft: Draft, category: Category) -> None:
    created, last = draft.events[0].at, draft.events[-1].at
    stamps = {e.action: e.at for e in draft.events}
    title, description, resolution = draft.texts
    number = next_number(ctx.session, ctx.tenant_id, "work_order")
    order = ctx.add(
        WorkOrder(
            id=new_id(),
            tenant_id=ctx.tenant_id,
            number=f"WO-{number:06d}",
            title=title,
            description=description,
            customer_id=draft.account.customer.id,
            site_id=draft.bundle.site.id,
            category_id=category.id,
            priority=draft.priority,
            status=draft.status,
            assignee_id=draft.assignee.id if draft.assignee else None,
            resolution=resolution if "complete" in stamps else None,
            source=draft.source,
            created_by=draft.events[0].actor.id,
            completed_at=stamps.get("complete"),
            closed_at=stamps.get("close"),
            cancelled_at=stamps.get("cancel"),
            **_windows(ctx, draft),
        ),
        at=created,
    )
    order.updated_at = last
    _write_children(ctx, order, draft)


def _write_children(ctx: DemoContext, order: WorkOrder, draft: Draft) -> None:
    """The order's asset links, status history and notes."""
    for asset in draft.assets:
        ctx.add(WorkOrderAsset(tenant_id=ctx.tenant_id, work_order_id=order.id, asset_id=asset.id))
    for event in draft.events:
        ctx.add(
            StatusChange(
                id=new_id(),
                tenant_id=ctx.tenant_id,
                work_order_id=order.id,
                action=event.action,
                from_status=event.from_status,
                to_status=event.to_status,
                reason=event.reason,
                actor_kind="user",
                actor_id=event.actor.id,
                occurred_at=event.at,
                recorded_at=event.at,
            )
        )
    for at, body, visibility, author in draft.notes:
        ctx.add(
            Note(
                id=new_id(),
                tenant_id=ctx.tenant_id,
                work_order_id=order.id,
                body=body,
                visibility=visibility,
                author_kind="user",
                author_id=author.id,
                created_at=at,
                occurred_at=at,
            )
        )


def _windows(ctx: DemoContext, draft: Draft) -> dict[str, datetime | None]:
    """Requested and scheduled windows and the SLA due time, consistent with the history."""
    rng = ctx.rng
    created = draft.events[0].at
    urgent = draft.priority is Priority.URGENT
    requested = _half_hour(created + ctx.minutes(*((0, 60) if urgent else (60, 2880))))
    travel = next((e.at for e in draft.events if e.action == "start_travel"), None)
    assigned = [e.at for e in draft.events if e.action == "assign"]
    scheduled: datetime | None = None
    if travel is not None:
        scheduled = _half_hour(travel + timedelta(minutes=40))
    elif draft.status in (S.ASSIGNED, S.ACCEPTED):
        scheduled = _half_hour(ctx.now + ctx.minutes(30, 2880))  # upcoming visits
    elif draft.assignee is not None and assigned:
        scheduled = _half_hour(assigned[-1] + timedelta(hours=2))
    return {
        "requested_start": requested,
        "requested_end": requested + timedelta(hours=rng.choice((2, 3, 4))),
        "scheduled_start": scheduled,
        "scheduled_end": scheduled + timedelta(hours=rng.randint(1, 3)) if scheduled else None,
        "sla_due_at": created + timedelta(hours=SLA_HOURS[draft.priority]),
    }


def _half_hour(moment: datetime) -> datetime:
    """The next half-hour mark (Shanghai is a whole number of hours from UTC)."""
    return moment.replace(minute=(moment.minute // 30) * 30, second=0, microsecond=0) + HALF_HOUR
