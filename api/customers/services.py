"""Customer and contact use cases. Each owns one unit of work and audits what it changes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.audit.changes import apply_changes, snapshot
from api.auth.actor import Actor
from api.customers.errors import CustomerCodeTaken, CustomerInUse
from api.customers.models import Contact, Customer
from api.customers.queries import access_contact, access_customer
from api.db import UnitOfWork
from api.db.checks import check_version, ensure_unused_id, pick
from api.sites.models import Site
from api.workorders.models import WorkOrder

CUSTOMER_FIELDS = frozenset(
    {"code", "name", "name_en", "tier", "phone", "email", "notes", "active"}
)
CONTACT_FIELDS = frozenset({"name", "name_en", "job_title", "phone", "email", "is_primary"})


def create_customer(uow: UnitOfWork, actor: Actor, data: Mapping[str, Any]) -> Customer:
    with uow:
        session = uow.session
        customer_id = data.get("id") or None
        ensure_unused_id(session, Customer, customer_id)
        _ensure_code_free(session, actor, data.get("code"))
        customer = Customer(tenant_id=actor.tenant_id)
        if customer_id:
            customer.id = customer_id
        apply_changes(customer, pick(data, CUSTOMER_FIELDS), CUSTOMER_FIELDS)
        session.add(customer)
        session.flush()  # assigns defaults (tier, id) before the audit snapshot
        audit.record(
            session, actor, "create", "customer", customer.id, snapshot(customer, CUSTOMER_FIELDS)
        )
        uow.commit()
        return customer


def update_customer(
    uow: UnitOfWork,
    actor: Actor,
    customer_id: uuid.UUID,
    expected_version: int,
    changes: Mapping[str, Any],
) -> Customer:
    with uow:
        session = uow.session
        customer = access_customer(session, actor, customer_id)
        check_version(customer, expected_version)
        if "code" in changes and changes["code"] != customer.code:
            _ensure_code_free(session, actor, changes["code"])
        diff = apply_changes(customer, changes, CUSTOMER_FIELDS)
        audit.record(session, actor, "update", "customer", customer.id, diff)
        uow.commit()
        return customer


def delete_customer(
    uow: UnitOfWork, actor: Actor, customer_id: uuid.UUID, expected_version: int
) -> None:
    with uow:
        session = uow.session
        customer = access_customer(session, actor, customer_id)
        check_version(customer, expected_version)
        in_use = session.scalar(
            select(
                exists().where(Site.customer_id == customer.id)
                | exists().where(WorkOrder.customer_id == customer.id)
            )
        )
        if in_use:
            raise CustomerInUse()
        audit.record(
            session, actor, "delete", "customer", customer.id, snapshot(customer, ["name"])
        )
        session.delete(customer)
        uow.commit()


def create_contact(
    uow: UnitOfWork, actor: Actor, customer_id: uuid.UUID, data: Mapping[str, Any]
) -> Contact:
    with uow:
        session = uow.session
        customer = access_customer(session, actor, customer_id)
        contact_id = data.get("id") or None
        ensure_unused_id(session, Contact, contact_id)
        contact = Contact(tenant_id=actor.tenant_id, customer_id=customer.id)
        if contact_id:
            contact.id = contact_id
        apply_changes(contact, pick(data, CONTACT_FIELDS), CONTACT_FIELDS)
        session.add(contact)
        session.flush()  # id and defaults for the audit snapshot
        audit.record(
            session,
            actor,
            "create",
            "contact",
            contact.id,
            snapshot(contact, CONTACT_FIELDS | {"customer_id"}),
        )
        uow.commit()
        return contact


def update_contact(
    uow: UnitOfWork,
    actor: Actor,
    contact_id: uuid.UUID,
    expected_version: int,
    changes: Mapping[str, Any],
) -> Contact:
    with uow:
        session = uow.session
        contact = access_contact(session, actor, contact_id)
        check_version(contact, expected_version)
        diff = apply_changes(contact, changes, CONTACT_FIELDS)
        audit.record(session, actor, "update", "contact", contact.id, diff)
        uow.commit()
        return contact


def _ensure_code_free(session: Session, actor: Actor, code: str | None) -> None:
    if code and session.scalar(
        select(exists().where(Customer.tenant_id == actor.tenant_id, Customer.code == code))
    ):
        raise CustomerCodeTaken()
