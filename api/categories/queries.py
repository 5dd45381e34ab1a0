"""Reading the category taxonomy: tenant-scoped, ``select()`` only.

Every role of a tenant sees the whole taxonomy (technicians and customers pick
categories too), so there is no role condition here. Lists and the tree are in
the order people see them: by level, then ``sort_order``, then ``code``. Codes
compare byte by byte on both databases, so the order never depends on a
server's locale.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from api.auth.actor import Actor
from api.categories.errors import CategoryNotFound
from api.categories.models import Category
from api.errors.common import InvalidCursor
from api.http.pagination import Page, decode_cursor, encode_cursor


@dataclass
class CategoryNode:
    """One active category in the tree, with its active children in display order."""

    id: uuid.UUID
    code: str
    name: str
    name_en: str | None
    level: int
    children: list[CategoryNode] = field(default_factory=list)


def category_and_below(tenant_id: uuid.UUID, category_id: uuid.UUID) -> Select[tuple[uuid.UUID]]:
    """The ids of a category and of everything below it (three levels at most): what a
    filter by category matches, for ``column.in_(...)``."""
    children = select(Category.id).where(
        Category.tenant_id == tenant_id, Category.parent_id == category_id
    )
    return select(Category.id).where(
        Category.tenant_id == tenant_id,
        or_(
            Category.id == category_id,
            Category.parent_id == category_id,
            Category.parent_id.in_(children),
        ),
    )


def access_category(session: Session, actor: Actor, category_id: uuid.UUID) -> Category:
    """The category if it belongs to the actor's tenant; otherwise 404."""
    category = session.scalars(
        select(Category).where(Category.id == category_id, Category.tenant_id == actor.tenant_id)
    ).one_or_none()
    if category is None:
        raise CategoryNotFound()
    return category


def category_path(session: Session, category: Category) -> list[Category]:
    """The category's ancestors and itself, from level 1 down (at most three rows)."""
    path = [category]
    while path[0].parent_id is not None:
        parent = session.get(Category, path[0].parent_id)
        if parent is None or parent.tenant_id != category.tenant_id:
            break  # the foreign key makes this unreachable; never cross tenants regardless
        path.insert(0, parent)
    return path


def list_categories(
    session: Session,
    actor: Actor,
    *,
    limit: int,
    cursor: str | None,
    level: int | None = None,
    parent_id: uuid.UUID | None = None,
    code: str | None = None,
    active: bool | None = None,
) -> Page:
    """One keyset page of categories ordered by (level, sort_order, code)."""
    code_key = _code_key(session)
    stmt: Select[tuple[Category]] = select(Category).where(Category.tenant_id == actor.tenant_id)
    if level is not None:
        stmt = stmt.where(Category.level == level)
    if parent_id is not None:
        stmt = stmt.where(Category.parent_id == parent_id)
    if code is not None:
        stmt = stmt.where(Category.code == code)
    if active is not None:
        stmt = stmt.where(Category.active.is_(active))
    if cursor is not None:
        after = tuple_(*(literal(value) for value in _decode(cursor)))
        stmt = stmt.where(tuple_(Category.level, Category.sort_order, code_key) > after)
    order = (Category.level, Category.sort_order, code_key)
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if has_more:
        last = rows[-1]
        next_cursor = encode_cursor([last.level, last.sort_order, last.code])
    return Page(items=rows, next_cursor=next_cursor)


def category_tree(session: Session, actor: Actor) -> list[CategoryNode]:
    """The tenant's active categories as nested nodes, each level in display order."""
    rows = session.scalars(
        select(Category).where(Category.tenant_id == actor.tenant_id, Category.active.is_(True))
    ).all()
    nodes: dict[uuid.UUID, CategoryNode] = {}
    roots: list[CategoryNode] = []
    # Parents sort before their children (lower level), so each parent node exists
    # by the time its children are attached.
    for row in sorted(rows, key=lambda c: (c.level, c.sort_order, c.code.encode())):
        node = CategoryNode(row.id, row.code, row.name, row.name_en, row.level)
        nodes[row.id] = node
        if row.parent_id is None:
            roots.append(node)
        elif row.parent_id in nodes:
            nodes[row.parent_id].children.append(node)
        # else: under an inactive parent, which the services never allow; leave it out.
    return roots


def _code_key(session: Session) -> ColumnElement[str]:
    # Byte order on both databases: PostgreSQL's default collation follows the
    # server locale, which would order (and page) differently from SQLite.
    collation = "C" if session.get_bind().dialect.name == "postgresql" else "BINARY"
    return Category.code.collate(collation)


def _decode(cursor: str) -> tuple[int, int, str]:
    level, sort_order, code = decode_cursor(cursor, 3)
    try:
        return int(level), int(sort_order), code
    except ValueError as exc:
        raise InvalidCursor() from exc
