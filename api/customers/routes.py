"""``/v1/customers`` and ``/v1/contacts``: thin views over the customer services."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.auth.permissions import Permission
from api.customers import queries, services
from api.customers.schemas import (
    ContactCreateSchema,
    ContactSchema,
    ContactUpdateSchema,
    CustomerCreateSchema,
    CustomerListArgs,
    CustomerSchema,
    CustomerUpdateSchema,
)
from api.http.blueprint import Blueprint
from api.http.context import new_uow, read_uow
from api.http.etag import etag_header, if_match
from api.http.guard import current_actor, requires
from api.http.idempotency import idempotent
from api.http.pagination import PageArgs, page_schema

blp = Blueprint("customers", __name__, url_prefix="/v1", description="Customers and their contacts")


@blp.route("/customers")
class Customers(MethodView):
    @requires(Permission.CUSTOMERS_READ)
    @blp.arguments(CustomerListArgs, location="query")
    @blp.response(200, page_schema(CustomerSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """List customers, oldest first. Customer contacts see only their own."""
        with read_uow() as uow:
            return queries.list_customers(uow.session, current_actor(), **args)

    @requires(Permission.CUSTOMERS_WRITE)
    @idempotent
    @blp.arguments(CustomerCreateSchema)
    @blp.response(201, CustomerSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a customer."""
        customer = services.create_customer(new_uow(), current_actor(), data)
        return customer, etag_header(customer.version)


@blp.route("/customers/<uuid:customer_id>")
class CustomerById(MethodView):
    @requires(Permission.CUSTOMERS_READ)
    @blp.response(200, CustomerSchema)
    def get(self, customer_id: uuid.UUID) -> Any:
        """Read a customer."""
        with read_uow() as uow:
            customer = queries.access_customer(uow.session, current_actor(), customer_id)
        return customer, etag_header(customer.version)

    @requires(Permission.CUSTOMERS_WRITE)
    @if_match
    @blp.arguments(CustomerUpdateSchema)
    @blp.response(200, CustomerSchema)
    def patch(self, changes: dict[str, Any], customer_id: uuid.UUID, version: int) -> Any:
        """Change some fields of a customer. Needs `If-Match`."""
        customer = services.update_customer(
            new_uow(), current_actor(), customer_id, version, changes
        )
        return customer, etag_header(customer.version)

    @requires(Permission.CUSTOMERS_WRITE)
    @if_match
    @blp.response(204)
    def delete(self, customer_id: uuid.UUID, version: int) -> None:
        """Delete a customer that has no sites or work orders. Needs `If-Match`."""
        services.delete_customer(new_uow(), current_actor(), customer_id, version)


@blp.route("/customers/<uuid:customer_id>/contacts")
class CustomerContacts(MethodView):
    @requires(Permission.CUSTOMERS_READ)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(ContactSchema))
    def get(self, args: dict[str, Any], customer_id: uuid.UUID) -> Any:
        """List a customer's contacts, oldest first."""
        with read_uow() as uow:
            return queries.list_contacts(uow.session, current_actor(), customer_id, **args)

    @requires(Permission.CUSTOMERS_WRITE)
    @idempotent
    @blp.arguments(ContactCreateSchema)
    @blp.response(201, ContactSchema)
    def post(self, data: dict[str, Any], customer_id: uuid.UUID) -> Any:
        """Add a contact to a customer."""
        contact = services.create_contact(new_uow(), current_actor(), customer_id, data)
        return contact, etag_header(contact.version)


@blp.route("/contacts/<uuid:contact_id>")
class ContactById(MethodView):
    @requires(Permission.CUSTOMERS_READ)
    @blp.response(200, ContactSchema)
    def get(self, contact_id: uuid.UUID) -> Any:
        """Read a contact."""
        with read_uow() as uow:
            contact = queries.access_contact(uow.session, current_actor(), contact_id)
        return contact, etag_header(contact.version)

    @requires(Permission.CUSTOMERS_WRITE)
    @if_match
    @blp.arguments(ContactUpdateSchema)
    @blp.response(200, ContactSchema)
    def patch(self, changes: dict[str, Any], contact_id: uuid.UUID, version: int) -> Any:
        """Change some fields of a contact. Needs `If-Match`."""
        contact = services.update_contact(new_uow(), current_actor(), contact_id, version, changes)
        return contact, etag_header(contact.version)
