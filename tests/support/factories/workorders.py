"""Work orders, notes and transitions, arranged through the work order services."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from api.auth.actor import Actor
from api.auth.permissions import Role
from api.customers.models import Customer
from api.sites.models import Site
from api.technicians.models import Technician
from api.workorders import notes, services, transitions
from api.workorders.models import Note, StatusChange
from api.workorders.queries import WorkOrderView
from api.workorders.states import Status
from tests.support.factories.core import World
from tests.support.factories.customers import CustomerFactories
from tests.support.factories.sites_assets import SiteAssetFactories
from tests.support.factories.technicians import TechnicianFactories

_n = itertools.count(1)

# The happy path, and the action that leaves each status along it.
_FORWARD: dict[Status, str] = {
    Status.NEW: "assign",
    Status.ASSIGNED: "accept",
    Status.ACCEPTED: "start_travel",
    Status.EN_ROUTE: "arrive",
    Status.ON_SITE: "start_work",
    Status.IN_PROGRESS: "complete",
    Status.COMPLETED: "close",
}
_NEEDS: dict[str, str] = {"complete": "resolution"}


@dataclass(frozen=True)
class Scene:
    """A tenant ready for field work: a customer with a site, a dispatcher, a
    technician who logs in, and a customer contact who logs in."""

    world: World
    customer: Customer
    site: Site
    dispatcher_id: uuid.UUID
    dispatcher_token: str
    technician: Technician
    technician_token: str
    contact_user_id: uuid.UUID
    contact_token: str


class WorkOrderFactories(TechnicianFactories, SiteAssetFactories, CustomerFactories):
    def scene(self, world: World | None = None) -> Scene:
        world = world or self.tenant()
        customer = self.customer(world)
        dispatcher, dispatcher_token = self.user(world, Role.DISPATCHER)
        technician, _, technician_token = self.technician_user(world)
        contact_user_id, contact_token = self.customer_login(world, customer)
        return Scene(
            world=world,
            customer=customer,
            site=self.site(world, customer),
            dispatcher_id=dispatcher.id,
            dispatcher_token=dispatcher_token,
            technician=technician,
            technician_token=technician_token,
            contact_user_id=contact_user_id,
            contact_token=contact_token,
        )

    def work_order(
        self,
        world: World,
        customer: Customer | None = None,
        site: Site | None = None,
        *,
        actor: Actor | None = None,
        **data: Any,
    ) -> WorkOrderView:
        """A new order (admin-created unless ``actor``); makes a customer and site if needed."""
        customer = customer or self.customer(world)
        site = site or self.site(world, customer)
        n = next(_n)
        fields: dict[str, Any] = {
            "title": f"空调不制冷 {n}",
            "customer_id": customer.id,
            "site_id": site.id,
        }
        fields.update(data)
        return services.create_work_order(self.uow(), actor or world.admin_actor, fields)

    def transition(
        self,
        world: World,
        order: WorkOrderView | uuid.UUID,
        action: str,
        actor: Actor | None = None,
        **command: Any,
    ) -> WorkOrderView:
        """Take one action (as the admin unless ``actor``); ``command`` adds reason etc."""
        order_id = order if isinstance(order, uuid.UUID) else order.id
        return transitions.transition_work_order(
            self.uow(), actor or world.admin_actor, order_id, {"action": action, **command}
        )

    def advance(
        self, world: World, order: WorkOrderView, to: Status, technician: Technician
    ) -> WorkOrderView:
        """Walk the happy path (as the admin, assigning ``technician``) until ``to``."""
        while order.status is not to:
            action = _FORWARD[order.status]
            command: dict[str, Any] = {}
            if action == "assign":
                command["assignee_id"] = technician.id
            if action in _NEEDS:
                command[_NEEDS[action]] = "已处理"
            order = self.transition(world, order, action, **command)
        return order

    def backdate(self, order_id: uuid.UUID, by: timedelta) -> None:
        """Move every step of the order's history so far ``by`` into the past: an order
        assigned this morning, whose offline work a device syncs this afternoon."""
        with self.uow() as uow:
            changes = uow.session.scalars(
                select(StatusChange).where(StatusChange.work_order_id == order_id)
            )
            for change in changes:
                change.occurred_at -= by
                change.recorded_at -= by
            uow.commit()

    def assigned_technician_token(self, world: World, customer: Customer, site: Site) -> str:
        """A token of a technician who has one work order assigned at ``site``."""
        technician, _, token = self.technician_user(world)
        order = self.work_order(world, customer, site)
        self.transition(world, order, "assign", assignee_id=technician.id)
        return token

    def technician_actor(self, world: World, technician: Technician) -> Actor:
        """How a technician's token looks to the services."""
        return Actor(
            tenant_id=world.tenant_id,
            role=Role.TECHNICIAN,
            user_id=technician.user_id,
            technician_id=technician.id,
        )

    def customer_login(self, world: World, customer: Customer) -> tuple[uuid.UUID, str]:
        """A contact of ``customer`` who logs in: their user id and an access token."""
        contact = self.contact(world, customer)
        user, token = self.user(world, Role.CUSTOMER_CONTACT, contact_id=contact.id)
        return user.id, token

    def note(
        self,
        world: World,
        order: WorkOrderView,
        body: str = "现场备注",
        actor: Actor | None = None,
        **data: Any,
    ) -> Note:
        return notes.add_note(
            self.uow(), actor or world.admin_actor, order.id, {"body": body, **data}
        )
