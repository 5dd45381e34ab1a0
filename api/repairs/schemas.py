"""Repair request schemas: a plain HTML form's fields, each bounded."""

from __future__ import annotations

from marshmallow import fields, validate

from api.http.schemas import Schema


class RepairFormSchema(Schema):
    description = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "What is wrong, in the customer's words"},
    )
    contact_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    contact_phone = fields.String(
        required=True, validate=validate.Regexp(r"^[0-9+()\- ]{5,40}$", error="Not a phone number")
    )
    contact_email = fields.Email(validate=validate.Length(max=254))
    website = fields.String(
        validate=validate.Length(max=200),
        metadata={"description": "Leave empty. A field people never see (a honeypot)"},
    )


class PublicAssetSchema(Schema):
    name = fields.String()
    name_en = fields.String(allow_none=True)
    site_name = fields.String()
    site_name_en = fields.String(allow_none=True)
    customer_name = fields.String(metadata={"description": "Whose equipment it is"})
    customer_name_en = fields.String(allow_none=True)


class ReceivedSchema(Schema):
    reference = fields.String(
        metadata={"description": "The work order's number, to quote when calling"}
    )
    tracking_url = fields.String(
        metadata={"description": "Where to follow the repair (`/t/<token>`, no account)"}
    )
