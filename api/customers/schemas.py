"""Customer and contact request/response schemas."""

from __future__ import annotations

from marshmallow import fields, validate
from webargs.fields import DelimitedList

from api.customers.models import CustomerTier
from api.http.pagination import PageArgs
from api.http.schemas import Schema, UTCDateTime, text


class CustomerSchema(Schema):
    id = fields.UUID(dump_only=True)
    code = fields.String(allow_none=True)
    name = fields.String()
    name_en = fields.String(allow_none=True)
    tier = fields.Enum(CustomerTier, by_value=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    active = fields.Boolean()
    version = fields.Integer(dump_only=True)
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)


class CustomerUpdateSchema(Schema):
    code = text(40)
    name = text(200, allow_none=False)
    name_en = text(200)
    tier = fields.Enum(CustomerTier, by_value=True)
    phone = text(40)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    notes = text(2000)
    active = fields.Boolean()


class CustomerCreateSchema(CustomerUpdateSchema):
    id = fields.UUID(metadata={"description": "Client-generated UUIDv7 (optional)"})
    name = text(200, required=True)


class CustomerListArgs(PageArgs):
    tier = DelimitedList(fields.Enum(CustomerTier, by_value=True))
    q = fields.String(
        validate=validate.Length(min=1, max=100), metadata={"description": "Name or code contains"}
    )
    active = fields.Boolean()


class ContactSchema(Schema):
    id = fields.UUID(dump_only=True)
    customer_id = fields.UUID(dump_only=True)
    name = fields.String()
    name_en = fields.String(allow_none=True)
    job_title = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    is_primary = fields.Boolean()
    user_id = fields.UUID(dump_only=True, allow_none=True)
    version = fields.Integer(dump_only=True)
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)


class ContactUpdateSchema(Schema):
    name = text(200, allow_none=False)
    name_en = text(200)
    job_title = text(120)
    phone = text(40)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    is_primary = fields.Boolean()


class ContactCreateSchema(ContactUpdateSchema):
    id = fields.UUID()
    name = text(200, required=True)
