"""Reading customers and contacts: tenant- and role-scoped, ``select()`` only."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from api import scoping
from api.auth.actor import Actor
from api.customers.errors import ContactNotFound, CustomerNotFound
from api.customers.models import Contact, Customer, CustomerTier
from api.http.pagination import Page, paginate


def access_customer(session: Session, actor: Actor, customer_id: uuid.UUID) -> Customer:
    """The customer if this actor may see it; otherwise 404, whether or not it exists."""
    customer = session.scalars(
        select(Customer).where(
            Customer.id == customer_id,
            Customer.tenant_id == actor.tenant_id,
            scoping.customers(actor),
        )
    ).one_or_none()
    if customer is None:
        raise CustomerNotFound()
    return customer


def access_contact(session: Session, actor: Actor, contact_id: uuid.UUID) -> Contact:
    contact = session.scalars(
        select(Contact).where(
            Contact.id == contact_id, Contact.tenant_id == actor.tenant_id, scoping.contacts(actor)
        )
    ).one_or_none()
    if contact is None:
        raise ContactNotFound()
    return contact


def list_customers(
    session: Session,
    actor: Actor,
    *,
    limit: int,
    cursor: str | None,
    tier: list[CustomerTier] | None = None,
    q: str | None = None,
    active: bool | None = None,
) -> Page:
    """Customers in creation order (UUIDv7), optionally by tier, activity or a name search."""
    stmt: Select[tuple[Customer]] = select(Customer).where(
        Customer.tenant_id == actor.tenant_id, scoping.customers(actor)
    )
    if tier:
        stmt = stmt.where(Customer.tier.in_(tier))
    if active is not None:
        stmt = stmt.where(Customer.active.is_(active))
    if q:
        pattern = f"%{q}%"
        stmt = stmt.where(
            or_(
                Customer.name.ilike(pattern),
                Customer.name_en.ilike(pattern),
                Customer.code.ilike(pattern),
            )
        )
    return paginate(session, stmt, Customer.id, limit=limit, cursor=cursor)


def list_contacts(
    session: Session, actor: Actor, customer_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page:
    access_customer(session, actor, customer_id)
    stmt = select(Contact).where(
        Contact.tenant_id == actor.tenant_id,
        Contact.customer_id == customer_id,
        scoping.contacts(actor),
    )
    return paginate(session, stmt, Contact.id, limit=limit, cursor=cursor)
