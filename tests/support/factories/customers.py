"""Customers and contacts."""

from __future__ import annotations

import itertools
from typing import Any

from api.customers import services
from api.customers.models import Contact, Customer
from tests.support.factories.core import CoreFactories, World

_n = itertools.count(1)


class CustomerFactories(CoreFactories):
    def customer(self, world: World, **data: Any) -> Customer:
        n = next(_n)
        fields = {"name": f"客户 {n}", "name_en": f"Customer {n}", "tier": "standard"}
        fields.update(data)
        return services.create_customer(self.uow(), world.admin_actor, fields)

    def contact(self, world: World, customer: Customer, **data: Any) -> Contact:
        n = next(_n)
        fields = {"name": f"联系人 {n}", "email": f"contact{n}@example.com"}
        fields.update(data)
        return services.create_contact(self.uow(), world.admin_actor, customer.id, fields)
