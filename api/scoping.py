"""Row visibility inside a tenant, by role: the one definition every accessor uses.

* Office roles (admin, dispatcher, API keys) see the whole tenant.
* A customer contact sees their own customer and what hangs off it.
* A technician sees the work orders assigned to them and what those need:
  their customers, contacts, sites and the assets at those sites.

Each function returns a SQL condition on one model. List queries and
single-object accessors both add it (next to the ``tenant_id`` filter), so
"can list it" and "can open it" never disagree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true

from api.assets.models import Asset
from api.auth.actor import Actor
from api.auth.permissions import Role
from api.customers.models import Contact, Customer
from api.sites.models import Site
from api.teams.models import Team
from api.technicians.models import Technician
from api.workorders.models import WorkOrder, WorkOrderAsset

Condition = ColumnElement[bool]


def _assigned_orders(actor: Actor) -> Any:
    return select(WorkOrder.id).where(
        WorkOrder.tenant_id == actor.tenant_id, WorkOrder.assignee_id == actor.technician_id
    )


def _assigned(column: Any, actor: Actor) -> Any:
    return select(column).where(
        WorkOrder.tenant_id == actor.tenant_id, WorkOrder.assignee_id == actor.technician_id
    )


def _by_customer(column: Any, actor: Actor) -> Condition:
    if actor.customer_id is None:
        return false()
    return column == actor.customer_id  # type: ignore[no-any-return]


def work_orders(actor: Actor) -> Condition:
    if actor.is_office:
        return true()
    if actor.role is Role.CUSTOMER_CONTACT:
        return _by_customer(WorkOrder.customer_id, actor)
    if actor.role is Role.TECHNICIAN and actor.technician_id is not None:
        return WorkOrder.assignee_id == actor.technician_id
    return false()


def customers(actor: Actor) -> Condition:
    if actor.is_office:
        return true()
    if actor.role is Role.CUSTOMER_CONTACT:
        return _by_customer(Customer.id, actor)
    if actor.role is Role.TECHNICIAN and actor.technician_id is not None:
        return Customer.id.in_(_assigned(WorkOrder.customer_id, actor))
    return false()


def contacts(actor: Actor) -> Condition:
    if actor.is_office:
        return true()
    if actor.role is Role.CUSTOMER_CONTACT:
        return _by_customer(Contact.customer_id, actor)
    if actor.role is Role.TECHNICIAN and actor.technician_id is not None:
        return Contact.customer_id.in_(_assigned(WorkOrder.customer_id, actor))
    return false()


def sites(actor: Actor) -> Condition:
    if actor.is_office:
        return true()
    if actor.role is Role.CUSTOMER_CONTACT:
        return _by_customer(Site.customer_id, actor)
    if actor.role is Role.TECHNICIAN and actor.technician_id is not None:
        return Site.id.in_(_assigned(WorkOrder.site_id, actor))
    return false()


def assets(actor: Actor) -> Condition:
    if actor.is_office:
        return true()
    if actor.role is Role.CUSTOMER_CONTACT:
        return _by_customer(Asset.customer_id, actor)
    if actor.role is Role.TECHNICIAN and actor.technician_id is not None:
        # Everything at the sites they are sent to, not only the assets named on
        # the order: the fault is often in the unit next to the one reported.
        return or_(
            Asset.site_id.in_(_assigned(WorkOrder.site_id, actor)),
            Asset.id.in_(
                select(WorkOrderAsset.asset_id).where(
                    WorkOrderAsset.work_order_id.in_(_assigned_orders(actor))
                )
            ),
        )
    return false()


def technicians(actor: Actor) -> Condition:
    if actor.is_office:
        return true()
    if actor.role is Role.TECHNICIAN and actor.technician_id is not None:
        own_team = select(Technician.team_id).where(Technician.id == actor.technician_id)
        return or_(Technician.id == actor.technician_id, Technician.team_id.in_(own_team))
    return false()


def teams(actor: Actor) -> Condition:
    if actor.is_office:
        return true()
    if actor.role is Role.TECHNICIAN and actor.technician_id is not None:
        return Team.id.in_(select(Technician.team_id).where(Technician.id == actor.technician_id))
    return false()
