"""User request/response schemas. Passwords are load-only: never serialised."""

from __future__ import annotations

from marshmallow import fields, validate
from webargs.fields import DelimitedList

from api.auth.schemas import PersonRole
from api.http.pagination import PageArgs
from api.http.schemas import Schema, UTCDateTime, text

_MANAGER_DOC = "A tenant manager (admins and dispatchers): escalations to the managers reach them"


class UserSchema(Schema):
    id = fields.UUID()
    email = fields.String()
    name = fields.String()
    role = PersonRole()
    locale = fields.String()
    active = fields.Boolean()
    manager = fields.Boolean(metadata={"description": _MANAGER_DOC})
    version = fields.Integer()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class UserCreateSchema(Schema):
    id = fields.UUID()
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = text(200, required=True)
    role = PersonRole(required=True)
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=256))
    locale = fields.String(validate=validate.OneOf(["zh-CN", "en"]))
    technician_id = fields.UUID(metadata={"description": "Required when role is technician"})
    contact_id = fields.UUID(metadata={"description": "Required when role is customer_contact"})
    manager = fields.Boolean(metadata={"description": _MANAGER_DOC})


class UserUpdateSchema(Schema):
    email = fields.Email(validate=validate.Length(max=254))
    name = text(200, allow_none=False)
    role = PersonRole()
    password = fields.String(load_only=True, validate=validate.Length(max=256))
    locale = fields.String(validate=validate.OneOf(["zh-CN", "en"]))
    active = fields.Boolean()
    manager = fields.Boolean(metadata={"description": _MANAGER_DOC})


class UserListArgs(PageArgs):
    role = DelimitedList(PersonRole())
