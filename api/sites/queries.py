"""Reading sites: tenant- and role-scoped, ``select()`` only."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from api import scoping
from api.auth.actor import Actor
from api.http.pagination import Page, paginate
from api.sites.errors import SiteNotFound
from api.sites.models import Site


def access_site(session: Session, actor: Actor, site_id: uuid.UUID) -> Site:
    """The site if this actor may see it; otherwise 404, whether or not it exists."""
    site = session.scalars(
        select(Site).where(
            Site.id == site_id, Site.tenant_id == actor.tenant_id, scoping.sites(actor)
        )
    ).one_or_none()
    if site is None:
        raise SiteNotFound()
    return site


def list_sites(
    session: Session,
    actor: Actor,
    *,
    limit: int,
    cursor: str | None,
    customer_id: uuid.UUID | None = None,
    q: str | None = None,
    active: bool | None = None,
) -> Page:
    """Sites in creation order (UUIDv7), optionally by customer, activity or a text search."""
    stmt: Select[tuple[Site]] = select(Site).where(
        Site.tenant_id == actor.tenant_id, scoping.sites(actor)
    )
    if customer_id is not None:
        stmt = stmt.where(Site.customer_id == customer_id)
    if active is not None:
        stmt = stmt.where(Site.active.is_(active))
    if q:
        pattern = contains_pattern(q)
        stmt = stmt.where(
            or_(
                *(
                    column.ilike(pattern, escape="\\")
                    for column in (
                        Site.name,
                        Site.name_en,
                        Site.address,
                        Site.address_en,
                        Site.city,
                    )
                )
            )
        )
    return paginate(session, stmt, Site.id, limit=limit, cursor=cursor)


def contains_pattern(text: str) -> str:
    """A LIKE pattern for "contains ``text``", where ``%`` and ``_`` match only themselves."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
