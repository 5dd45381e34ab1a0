"""The board's two reads, each one statement over plain columns (no ORM objects).

The console re-reads these on every live event, so they are built for speed: the
open orders of a page with their site, customer, assignee and leaf category in
one joined SELECT, and the technicians with their current position in another
plus one for their open work. Newest first, keyset pages by id. The rows come
back in their wire shape (timestamps already as the API writes them) for
:func:`api.http.pagination.page_response`.

The open orders run on the request's read connection, outside any unit of work
(one statement in autocommit sees one snapshot). On PostgreSQL the statement
runs on psycopg itself (:mod:`api.db.driver_reads`): compiled once per tenant and
filter, prepared by the driver after a few runs, with statuses, priorities and
tiers as the stored strings (their wire values) and no SQLAlchemy result
processing; a page of 50 through SQLAlchemy cost more client CPU than the rest
of the request together.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, Uuid, and_, bindparam, select
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.board import rules
from api.categories.models import Category
from api.categories.queries import category_and_below
from api.customers.models import Customer, CustomerTier
from api.db.driver_reads import DriverReads
from api.errors.common import InvalidCursor
from api.http.pagination import Page, decode_cursor, encode_cursor
from api.http.schemas import utc_text
from api.location.models import CurrentLocation
from api.sites.models import Site
from api.technicians.models import Technician
from api.workorders.models import WorkOrder
from api.workorders.states import Priority, Status

_ORDERS = WorkOrder.__table__
_SITES = Site.__table__
_CUSTOMERS = Customer.__table__
_TECHNICIANS = Technician.__table__
_CATEGORIES = Category.__table__
_LOCATIONS = CurrentLocation.__table__


# The rows go out fifty at a time, built here and written by orjson: plain dataclasses.
# A frozen one sets each field through object.__setattr__ (four times the cost to
# build) and orjson writes slotted ones field by field (four times the cost to write).
@dataclass
class Place:
    id: uuid.UUID
    name: str
    city: str | None
    lat: float | None
    lon: float | None


@dataclass
class Named:
    id: uuid.UUID
    name: str
    name_en: str | None


@dataclass
class Assignee:
    id: uuid.UUID
    name: str
    team_id: uuid.UUID | None


@dataclass
class BoardOrder:
    id: uuid.UUID
    number: str
    title: str
    status: Status | str  # the stored value on the driver path: the same on the wire
    priority: Priority | str
    sla_due_at: str | None
    sla_state: rules.SlaState
    scheduled_start: str | None
    scheduled_end: str | None
    site: Place
    customer: Named
    customer_tier: CustomerTier | str
    category: Named | None
    assignee: Assignee | None
    version: int
    updated_at: str


@dataclass
class Fix:
    lat: float
    lon: float
    accuracy_m: float | None
    fixed_at: str


@dataclass
class Job:
    id: uuid.UUID
    number: str
    status: Status


@dataclass
class BoardTechnician:
    id: uuid.UUID
    name: str
    team_id: uuid.UUID | None
    position: Fix | None
    activity: rules.Activity
    current_job: Job | None
    open_orders: int
    photo_url: str | None = None  # the small portrait's short-lived link (set by the view)


@dataclass(frozen=True)
class OrderFilter:
    """Hashable (tuples, not lists): with the tenant it keys the compiled statement."""

    status: tuple[Status, ...] = rules.OPEN
    priority: tuple[Priority, ...] = ()
    team_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    unassigned: bool = False

    @classmethod
    def of(
        cls,
        *,
        status: Sequence[Status] = rules.OPEN,
        priority: Sequence[Priority] = (),
        **rest: Any,
    ) -> OrderFilter:
        return cls(status=tuple(status), priority=tuple(priority), **rest)


_ORDER_COLUMNS = (
    _ORDERS.c.id,
    _ORDERS.c.number,
    _ORDERS.c.title,
    _ORDERS.c.status,
    _ORDERS.c.priority,
    _ORDERS.c.sla_due_at,
    _ORDERS.c.created_at,
    _ORDERS.c.scheduled_start,
    _ORDERS.c.scheduled_end,
    _ORDERS.c.version,
    _ORDERS.c.updated_at,
    _SITES.c.id,
    _SITES.c.name,
    _SITES.c.city,
    _SITES.c.lat,
    _SITES.c.lon,
    _CUSTOMERS.c.id,
    _CUSTOMERS.c.name,
    _CUSTOMERS.c.name_en,
    _CUSTOMERS.c.tier,
    _CATEGORIES.c.id,
    _CATEGORIES.c.name,
    _CATEGORIES.c.name_en,
    _TECHNICIANS.c.id,
    _TECHNICIANS.c.name,
    _TECHNICIANS.c.team_id,
)


# Built once: only the filters change between requests.
_BOARD_FROM = (
    _ORDERS.join(_SITES, _SITES.c.id == _ORDERS.c.site_id)
    .join(_CUSTOMERS, _CUSTOMERS.c.id == _ORDERS.c.customer_id)
    .outerjoin(_CATEGORIES, _CATEGORIES.c.id == _ORDERS.c.category_id)
    .outerjoin(_TECHNICIANS, _TECHNICIANS.c.id == _ORDERS.c.assignee_id)
)
_BOARD_ORDERS: Select[Any] = select(*_ORDER_COLUMNS).select_from(_BOARD_FROM)


_DRIVER_READS = DriverReads(binary=True)  # fifty wide rows a page
# The cursor (the last id of the page before), bound per request: not part of the key.
_BEFORE = bindparam("before", type_=Uuid(), required=False)


def open_orders(
    connection: Connection,
    actor: Actor,
    where: OrderFilter,
    *,
    limit: int,
    cursor: str | None,
    now: datetime,
) -> Page:
    """The tenant's orders in ``where.status`` (default: every open status), newest first."""
    before = _cursor_id(cursor) if cursor is not None else None
    paged = before is not None

    def build() -> Select[Any]:
        stmt = _filtered(_BOARD_ORDERS, actor, where, paged)
        return stmt.order_by(_ORDERS.c.id.desc()).limit(limit + 1)

    params = {"before": before} if paged else {}
    rows: Sequence[Any]
    if connection.dialect.name == "postgresql":
        key = (actor.tenant_id, where, paged, limit)  # everything build() bakes in
        rows = _DRIVER_READS.fetch(connection, key, build, params)
    else:
        rows = connection.execute(build(), params).all()
    build_row = _Rows(now).order
    items = [build_row(row) for row in rows[:limit]]
    next_cursor = encode_cursor([items[-1].id]) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


def _filtered(stmt: Select[Any], actor: Actor, where: OrderFilter, paged: bool) -> Select[Any]:
    stmt = stmt.where(_ORDERS.c.tenant_id == actor.tenant_id, _ORDERS.c.status.in_(where.status))
    if where.priority:
        stmt = stmt.where(_ORDERS.c.priority.in_(where.priority))
    if where.team_id is not None:
        stmt = stmt.where(_TECHNICIANS.c.team_id == where.team_id)
    if where.assignee_id is not None:
        stmt = stmt.where(_ORDERS.c.assignee_id == where.assignee_id)
    if where.unassigned:
        stmt = stmt.where(_ORDERS.c.assignee_id.is_(None))
    if where.category_id is not None:
        stmt = stmt.where(
            _ORDERS.c.category_id.in_(category_and_below(actor.tenant_id, where.category_id))
        )
    if paged:
        stmt = stmt.where(_ORDERS.c.id < _BEFORE)
    return stmt


class _Rows:
    """Builds a page's rows. What several orders share (their site, customer, category
    or assignee: a page of 50 names a handful of each) is built once and shared, so
    orjson also writes each shared text from the UTF-8 it cached the first time."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.places: dict[int, Place] = {}
        self.customers: dict[int, Named] = {}
        self.categories: dict[int, Named] = {}
        self.assignees: dict[int, Assignee] = {}

    def order(self, row: Any) -> BoardOrder:
        (
            id_, number, title, status, priority, due, created_at, start, end, version, updated_at,
            site_id, site_name, city, lat, lon,
            customer_id, customer_name, customer_name_en, tier,
            category_id, category_name, category_name_en,
            technician_id, technician_name, team_id,
        ) = row  # fmt: skip
        # Keyed by the UUIDs' integers: UUID.__hash__ is Python code, int's is not.
        site = self.places.get(site_id.int)
        if site is None:
            site = self.places[site_id.int] = Place(site_id, site_name, city, lat, lon)
        customer = self.customers.get(customer_id.int)
        if customer is None:
            customer = Named(customer_id, customer_name, customer_name_en)
            self.customers[customer_id.int] = customer
        category = None
        if category_id is not None:
            category = self.categories.get(category_id.int)
            if category is None:
                category = Named(category_id, category_name, category_name_en)
                self.categories[category_id.int] = category
        assignee = None
        if technician_id is not None:
            assignee = self.assignees.get(technician_id.int)
            if assignee is None:
                assignee = Assignee(technician_id, technician_name, team_id)
                self.assignees[technician_id.int] = assignee
        return BoardOrder(
            id_,
            number,
            title,
            status,
            priority,
            None if due is None else utc_text(due),
            rules.sla_state(status, created_at, due, self.now),
            None if start is None else utc_text(start),
            None if end is None else utc_text(end),
            site,
            customer,
            tier,
            category,
            assignee,
            version,
            _utc(updated_at),
        )


_BOARD_TECHNICIANS: Select[Any] = select(
    _TECHNICIANS.c.id,
    _TECHNICIANS.c.name,
    _TECHNICIANS.c.team_id,
    _LOCATIONS.c.lat,
    _LOCATIONS.c.lon,
    _LOCATIONS.c.accuracy_m,
    _LOCATIONS.c.fixed_at,
).select_from(
    _TECHNICIANS.outerjoin(
        _LOCATIONS,
        and_(
            _LOCATIONS.c.tenant_id == _TECHNICIANS.c.tenant_id,
            _LOCATIONS.c.technician_id == _TECHNICIANS.c.id,
        ),
    )
)


def technicians(
    session: Session,
    actor: Actor,
    *,
    team_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> Page:
    """Active technicians with their latest position and the job they are on."""
    stmt = _BOARD_TECHNICIANS.where(
        _TECHNICIANS.c.tenant_id == actor.tenant_id, _TECHNICIANS.c.active.is_(True)
    )
    if team_id is not None:
        stmt = stmt.where(_TECHNICIANS.c.team_id == team_id)
    if cursor is not None:
        stmt = stmt.where(_TECHNICIANS.c.id < _cursor_id(cursor))
    rows = session.execute(stmt.order_by(_TECHNICIANS.c.id.desc()).limit(limit + 1)).all()
    page = rows[:limit]
    work = _open_work(session, actor.tenant_id, [row[0] for row in page])
    items = []
    for id_, name, team, lat, lon, accuracy, fixed_at in page:
        jobs = work.get(id_, [])
        current = min(jobs, key=lambda job: rules.ENGAGED.index(job.status), default=None)
        if current is not None and current.status is Status.ASSIGNED:
            current = None  # an offer not yet accepted is nobody's current job
        items.append(
            BoardTechnician(
                id=id_,
                name=name,
                team_id=team,
                position=Fix(lat, lon, accuracy, _utc(fixed_at)) if fixed_at is not None else None,
                activity=rules.activity(current.status if current else None),
                current_job=current,
                open_orders=len(jobs),
            )
        )
    next_cursor = encode_cursor([items[-1].id]) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


def _open_work(
    session: Session, tenant_id: uuid.UUID, technician_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Job]]:
    if not technician_ids:
        return {}
    rows = session.execute(
        select(_ORDERS.c.assignee_id, _ORDERS.c.id, _ORDERS.c.number, _ORDERS.c.status).where(
            _ORDERS.c.tenant_id == tenant_id,
            _ORDERS.c.assignee_id.in_(technician_ids),
            _ORDERS.c.status.in_(rules.ENGAGED),
        )
    )
    work: dict[uuid.UUID, list[Job]] = {}
    for assignee_id, id_, number, status in rows:
        work.setdefault(assignee_id, []).append(Job(id_, number, status))
    return work


def _utc(value: datetime) -> str:
    text = utc_text(value)
    assert text is not None
    return text


def _cursor_id(cursor: str) -> uuid.UUID:
    (last,) = decode_cursor(cursor, 1)
    try:
        return uuid.UUID(last)
    except ValueError as exc:
        raise InvalidCursor() from exc
