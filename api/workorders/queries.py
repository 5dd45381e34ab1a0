"""Reading work orders, their history and notes: tenant- and role-scoped, ``select()`` only.

Orders leave this module as :class:`WorkOrderView`: the row plus what a client
needs alongside it (asset ids, the category with its path, and the actions the
caller may take next), loaded for a whole page at once rather than per row.
The small lookups of sites, assets, categories and technicians at the bottom
resolve ids named in a request body, always inside the caller's tenant.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, func, lambda_stmt, or_, select
from sqlalchemy.orm import Session

from api import scoping
from api.assets.models import Asset
from api.auth.actor import Actor
from api.auth.permissions import Permission, Role
from api.categories.models import Category
from api.categories.queries import category_and_below
from api.db.driver_reads import DriverReads
from api.duplicates.models import MERGED_INTO, OPEN, DuplicateSuggestion, WorkOrderLink
from api.http.pagination import Page, paginate
from api.sites.models import Site
from api.technicians.models import Technician
from api.workorders import rules
from api.workorders.errors import WorkOrderNotFound
from api.workorders.models import Note, StatusChange, WorkOrder, WorkOrderAsset
from api.workorders.states import NoteVisibility, Priority, Status


@dataclass(frozen=True)
class CategoryRef:
    id: uuid.UUID
    code: str
    name: str
    name_en: str | None


@dataclass(frozen=True)
class CategoryPath(CategoryRef):
    path: list[CategoryRef]


# An order as loaded: the mapped entity, or (for the single read, which skips the
# ORM) a record with the same attribute names. Views read the same attributes from both.
OrderRecord = WorkOrder | SimpleNamespace


class WorkOrderView(SimpleNamespace):
    """A work order as one caller sees it: the columns a response shows, plus what the
    row alone cannot say (``asset_ids``, ``category``, ``allowed_actions``).

    A flat record rather than a wrapper around the row: the response schema reads
    some thirty attributes, and delegating each one cost a third of the dump.
    """

    @classmethod
    def of(
        cls,
        order: OrderRecord,
        *,
        asset_ids: list[uuid.UUID],
        category: CategoryPath | None,
        allowed_actions: list[str],
        possible_duplicates: int = 0,
        merged_into_id: uuid.UUID | None = None,
    ) -> WorkOrderView:
        return cls(
            **{name: getattr(order, name) for name in _SHOWN_NAMES},
            asset_ids=asset_ids,
            category=category,
            allowed_actions=allowed_actions,
            possible_duplicates=possible_duplicates,
            merged_into_id=merged_into_id,
        )


def access_work_order(
    session: Session, actor: Actor, work_order_id: uuid.UUID, *, for_update: bool = False
) -> WorkOrder:
    """The order if this actor may see it; otherwise 404, whether or not it exists.

    ``for_update`` locks the row (PostgreSQL) so concurrent transitions queue up and
    each plans from the status the previous one left.
    """
    stmt = select(WorkOrder).where(
        WorkOrder.id == work_order_id,
        WorkOrder.tenant_id == actor.tenant_id,
        scoping.work_orders(actor),
    )
    if for_update:
        stmt = stmt.with_for_update()
    order = session.scalars(stmt).one_or_none()
    if order is None:
        raise WorkOrderNotFound()
    return order


def read_work_order(
    connection: Connection, actor: Actor, work_order_id: uuid.UUID
) -> WorkOrderView:
    """One order as :func:`present` shows it, in one query (404 as in :func:`access_work_order`).

    The hottest read of the API, so it runs on a connection and returns a plain
    record, not an entity: the order, its category path and its asset ids in one
    round trip, one row per asset link. On PostgreSQL it runs on psycopg
    (:mod:`api.db.driver_reads`), which gives enums as the stored strings.
    """
    params = {"id": work_order_id, "tenant_id": actor.tenant_id}
    if connection.dialect.name == "postgresql":
        rows = _DRIVER_READS.fetch(  # keyed by actor: the scope is a function of it
            connection, actor, lambda: _READ_ONE_PG.where(scoping.work_orders(actor)), params
        )
        if not rows:
            raise WorkOrderNotFound()
        first = rows[0]
        asset_ids = first[-1]  # one row, the asset ids as an array
    else:
        scope = scoping.work_orders(actor)
        # lambda_stmt caches the statement's construction per scope shape: building it
        # and its cache key anew each call cost more CPU than running it.
        rows = connection.execute(lambda_stmt(lambda: _READ_ONE.where(scope)), params).all()
        if not rows:
            raise WorkOrderNotFound()
        first = rows[0]  # a row per asset link
        asset_ids = [row[-1] for row in rows if row[-1] is not None]
    # The order's columns come first, in _SHOWN_COLUMNS order, then its duplicate
    # flags (_FLAG_NAMES), then the category path.
    flags_end = len(_SHOWN_NAMES) + len(_FLAG_NAMES)
    view = WorkOrderView(
        **dict(zip(_SHOWN_NAMES, first, strict=False)),
        **dict(zip(_FLAG_NAMES, first[len(_SHOWN_NAMES) : flags_end], strict=True)),
        asset_ids=asset_ids,
        category=_category_path(first[flags_end:-1]),
    )
    view.status = Status(view.status)  # the driver path gives the stored strings
    view.priority = Priority(view.priority)
    view.allowed_actions = actions_for(actor, view)
    if actor.role is Role.CUSTOMER_CONTACT:
        view.current_steps = None  # the workflow is the staff's choreography
    return view


def list_work_orders(
    session: Session,
    actor: Actor,
    *,
    limit: int,
    cursor: str | None,
    status: list[Status] | None = None,
    priority: list[Priority] | None = None,
    assignee_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    site_id: uuid.UUID | None = None,
    category_id: uuid.UUID | None = None,
    updated_since: datetime | None = None,
    q: str | None = None,
) -> Page:
    """Orders newest first, filtered; ``category_id`` also matches its subcategories."""
    stmt: Select[tuple[WorkOrder]] = select(WorkOrder).where(
        WorkOrder.tenant_id == actor.tenant_id, scoping.work_orders(actor)
    )
    if status:
        stmt = stmt.where(WorkOrder.status.in_(status))
    if priority:
        stmt = stmt.where(WorkOrder.priority.in_(priority))
    for column, value in (
        (WorkOrder.assignee_id, assignee_id),
        (WorkOrder.customer_id, customer_id),
        (WorkOrder.site_id, site_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if category_id is not None:
        stmt = stmt.where(
            WorkOrder.category_id.in_(category_and_below(actor.tenant_id, category_id))
        )
    if updated_since is not None:
        stmt = stmt.where(WorkOrder.updated_at >= updated_since)
    if q:
        stmt = stmt.where(_text_matches(q))
    page = paginate(session, stmt, WorkOrder.id, limit=limit, cursor=cursor, descending=True)
    return Page(items=present(session, actor, page.items), next_cursor=page.next_cursor)


def list_history(
    session: Session, actor: Actor, work_order_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page:
    """Status changes in the order they happened (``occurred_at``), starting with the creation.

    Customer contacts see the steps but not the staff behind them, and a reason
    only when it was given to them (a cancellation): pause and decline reasons
    are internal remarks.
    """
    access_work_order(session, actor, work_order_id)
    stmt = select(StatusChange).where(
        StatusChange.tenant_id == actor.tenant_id, StatusChange.work_order_id == work_order_id
    )
    page = paginate(
        session, stmt, StatusChange.id, limit=limit, cursor=cursor, after=StatusChange.occurred_at
    )
    if actor.role is not Role.CUSTOMER_CONTACT:
        return page
    return Page(
        items=[_for_customer(change) for change in page.items], next_cursor=page.next_cursor
    )


def step_time(session: Session, order: WorkOrder, status: Status) -> datetime | None:
    """When the order last reached ``status`` (its latest history row to it), if ever.

    A step taken from that status cannot have happened before this: the floor
    of field times (PROTOCOL.md § 7.3) and of times the office states.
    """
    found: datetime | None = session.scalar(
        select(func.max(StatusChange.occurred_at)).where(
            StatusChange.tenant_id == order.tenant_id,
            StatusChange.work_order_id == order.id,
            StatusChange.to_status == status,
        )
    )
    return found


def history_fields(change: StatusChange) -> dict[str, Any]:
    """A history step as the office reads it."""
    return {name: getattr(change, name) for name in _HISTORY_FIELDS}


def _for_customer(change: StatusChange) -> dict[str, Any]:
    shown = history_fields(change)
    if change.action != "cancel":
        shown["reason"] = None
    if change.actor_kind == "user" and change.actor_id is not None:
        shown["actor_id"] = None
    return shown


_HISTORY_FIELDS = (
    "id",
    "work_order_id",
    "action",
    "from_status",
    "to_status",
    "reason",
    "actor_kind",
    "actor_id",
    "occurred_at",
    "recorded_at",
)


def list_notes(
    session: Session, actor: Actor, work_order_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page:
    """Notes oldest first by when they were written (``occurred_at``); customer contacts
    get only the customer-visible ones that were not voided (as for the order's other
    evidence, :mod:`api.evidence.queries`)."""
    access_work_order(session, actor, work_order_id)
    stmt = select(Note).where(
        Note.tenant_id == actor.tenant_id, Note.work_order_id == work_order_id
    )
    if actor.role is Role.CUSTOMER_CONTACT:
        stmt = stmt.where(Note.visibility == NoteVisibility.CUSTOMER, Note.voided_at.is_(None))
    return paginate(session, stmt, Note.id, limit=limit, cursor=cursor, after=Note.occurred_at)


def is_assignee(actor: Actor, order: OrderRecord) -> bool:
    return actor.technician_id is not None and order.assignee_id == actor.technician_id


def actions_for(actor: Actor, order: OrderRecord) -> list[str]:
    """What this caller may do next (empty if they may not change statuses at all)."""
    if not actor.can(Permission.WORK_ORDERS_TRANSITION):
        return []
    return list(_action_names(order.status, actor.role, is_assignee(actor, order)))


@functools.cache  # a few dozen combinations; asked on every read of an order
def _action_names(status: Status, role: Role, assignee: bool) -> tuple[str, ...]:
    return tuple(action.value for action in rules.allowed_actions(status, role, assignee))


def present(session: Session, actor: Actor, orders: Sequence[WorkOrder]) -> list[WorkOrderView]:
    """Views of these orders for this caller, with two queries for the whole batch."""
    asset_ids: dict[uuid.UUID, list[uuid.UUID]] = {order.id: [] for order in orders}
    if orders:
        links = session.execute(
            select(WorkOrderAsset.work_order_id, WorkOrderAsset.asset_id)
            .where(WorkOrderAsset.work_order_id.in_(list(asset_ids)))
            .order_by(WorkOrderAsset.asset_id)
        )
        for work_order_id, asset_id in links:
            asset_ids[work_order_id].append(asset_id)
    categories = category_paths(
        session, actor.tenant_id, {o.category_id for o in orders if o.category_id}
    )
    flags = _duplicate_flags(session, list(asset_ids))
    views = [
        WorkOrderView.of(
            order,
            asset_ids=asset_ids[order.id],
            category=categories.get(order.category_id) if order.category_id else None,
            allowed_actions=actions_for(actor, order),
            **flags.get(order.id, {}),
        )
        for order in orders
    ]
    if actor.role is Role.CUSTOMER_CONTACT:
        for view in views:
            view.current_steps = None  # the workflow is the staff's choreography
    return views


def _duplicate_flags(session: Session, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """Per order: its open duplicate suggestions and what it was merged into (api.duplicates)."""
    if not order_ids:
        return {}
    rows = session.execute(select(_ORDERS.c.id, *_FLAG_COLUMNS).where(_ORDERS.c.id.in_(order_ids)))
    return {row[0]: dict(zip(_FLAG_NAMES, row[1:], strict=True)) for row in rows}


# Built once, from the tables rather than the mapped classes: these statements run
# on every read, and plain (un-annotated) columns let SQLAlchemy reuse a cached
# statement's result layout as is instead of re-matching every column per call.
_CATEGORIES = Category.__table__
_LEAF = _CATEGORIES.alias("leaf")
_PARENT = _CATEGORIES.alias("parent")
_GRANDPARENT = _CATEGORIES.alias("grandparent")
_PATH_COLUMNS = [
    alias.c[name]
    for alias in (_GRANDPARENT, _PARENT, _LEAF)
    for name in ("id", "code", "name", "name_en")
]


def category_paths(
    session: Session, tenant_id: uuid.UUID, category_ids: set[uuid.UUID]
) -> dict[uuid.UUID, CategoryPath]:
    """Each category with its ancestors, top level first (three levels at most)."""
    if not category_ids:
        return {}
    rows = session.execute(
        select(*_PATH_COLUMNS)
        .select_from(
            _LEAF.outerjoin(_PARENT, _LEAF.c.parent_id == _PARENT.c.id).outerjoin(
                _GRANDPARENT, _PARENT.c.parent_id == _GRANDPARENT.c.id
            )
        )
        .where(_LEAF.c.id.in_(category_ids), _LEAF.c.tenant_id == tenant_id)
    )
    paths: dict[uuid.UUID, CategoryPath] = {}
    for row in rows:
        path = _category_path(row)
        if path is not None:
            paths[path.id] = path
    return paths


def _category_path(columns: Sequence[Any]) -> CategoryPath | None:
    """A row of ``_PATH_COLUMNS`` as a path (None when the leaf is missing)."""
    chain = [CategoryRef(*columns[i : i + 4]) for i in (0, 4, 8) if columns[i] is not None]
    if not chain:
        return None
    return CategoryPath(**vars(chain[-1]), path=chain)


# The single read: the order, its category path (outer joins: it may have none) and
# its asset ids ordered like present()'s (an array on PostgreSQL, else one row per
# asset link). Sync bookkeeping that
# no response shows is left out (the JSON stamps alone were a third of the driver's
# time); every other column is read, so a column added later is shown as it is.
_DRIVER_READS = DriverReads()
_ORDERS = WorkOrder.__table__
_ORDER_ASSETS = WorkOrderAsset.__table__
_NOT_SHOWN = {"field_hlcs", "status_hlc", "create_digest"}
_SHOWN_COLUMNS = [column for column in _ORDERS.c if column.name not in _NOT_SHOWN]
_SHOWN_NAMES = tuple(column.name for column in _SHOWN_COLUMNS)
_WITH_CATEGORY = (
    _ORDERS.outerjoin(
        _LEAF,
        and_(_LEAF.c.id == _ORDERS.c.category_id, _LEAF.c.tenant_id == _ORDERS.c.tenant_id),
    )
    .outerjoin(_PARENT, _LEAF.c.parent_id == _PARENT.c.id)
    .outerjoin(_GRANDPARENT, _PARENT.c.parent_id == _GRANDPARENT.c.id)
)
# How many open duplicate suggestions name the order (either side), and the primary
# it was merged into: shown on every read so the office sees the flag in lists.
_SUGGESTIONS = DuplicateSuggestion.__table__
_LINKS = WorkOrderLink.__table__
_FLAG_COLUMNS = [
    # Two counts, not one with OR: each side then reads its own index.
    (
        select(func.count())
        .where(_SUGGESTIONS.c.work_order_id == _ORDERS.c.id, _SUGGESTIONS.c.state == OPEN)
        .scalar_subquery()
        + select(func.count())
        .where(_SUGGESTIONS.c.candidate_id == _ORDERS.c.id, _SUGGESTIONS.c.state == OPEN)
        .scalar_subquery()
    ).label("possible_duplicates"),
    select(_LINKS.c.linked_id)
    .where(_LINKS.c.work_order_id == _ORDERS.c.id, _LINKS.c.kind == MERGED_INTO)
    .limit(1)
    .scalar_subquery()
    .label("merged_into_id"),
]
_FLAG_NAMES = ("possible_duplicates", "merged_into_id")
_THIS_ORDER = (_ORDERS.c.id == bindparam("id"), _ORDERS.c.tenant_id == bindparam("tenant_id"))
_READ_ONE = (
    select(*_SHOWN_COLUMNS, *_FLAG_COLUMNS, *_PATH_COLUMNS, _ORDER_ASSETS.c.asset_id)
    .select_from(
        _WITH_CATEGORY.outerjoin(_ORDER_ASSETS, _ORDER_ASSETS.c.work_order_id == _ORDERS.c.id)
    )
    .where(*_THIS_ORDER)
    .order_by(_ORDER_ASSETS.c.asset_id)
)
# PostgreSQL: one row, the asset ids as an array (half the values to send and parse).
_READ_ONE_PG = (
    select(
        *_SHOWN_COLUMNS,
        *_FLAG_COLUMNS,
        *_PATH_COLUMNS,
        func.array(
            select(_ORDER_ASSETS.c.asset_id)
            .where(_ORDER_ASSETS.c.work_order_id == _ORDERS.c.id)
            .order_by(_ORDER_ASSETS.c.asset_id)
            .scalar_subquery()
        ),
    )
    .select_from(_WITH_CATEGORY)
    .where(*_THIS_ORDER)
)


def find_site(session: Session, actor: Actor, site_id: uuid.UUID) -> Site | None:
    return session.scalars(
        select(Site).where(
            Site.id == site_id, Site.tenant_id == actor.tenant_id, scoping.sites(actor)
        )
    ).one_or_none()


def find_assets(session: Session, actor: Actor, asset_ids: Sequence[uuid.UUID]) -> list[Asset]:
    if not asset_ids:
        return []
    return list(
        session.scalars(
            select(Asset).where(
                Asset.id.in_(list(asset_ids)),
                Asset.tenant_id == actor.tenant_id,
                scoping.assets(actor),
            )
        )
    )


def find_category(session: Session, actor: Actor, category_id: uuid.UUID) -> Category | None:
    # Categories are tenant reference data that every role may read.
    return session.scalars(
        select(Category).where(Category.id == category_id, Category.tenant_id == actor.tenant_id)
    ).one_or_none()


def find_technician(session: Session, actor: Actor, technician_id: uuid.UUID) -> Technician | None:
    return session.scalars(
        select(Technician).where(
            Technician.id == technician_id, Technician.tenant_id == actor.tenant_id
        )
    ).one_or_none()


def asset_ids_of(session: Session, order: WorkOrder) -> list[uuid.UUID]:
    return list(
        session.scalars(
            select(WorkOrderAsset.asset_id)
            .where(WorkOrderAsset.work_order_id == order.id)
            .order_by(WorkOrderAsset.asset_id)
        )
    )


def _text_matches(q: str) -> Any:
    # Escaped, so "100%" or "A_1" search for those characters, not wildcards.
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return or_(
        WorkOrder.title.ilike(pattern, escape="\\"),
        WorkOrder.number.ilike(pattern, escape="\\"),
    )
