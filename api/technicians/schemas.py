"""Technician request/response schemas.

On the wire a technician's home is ``home_base: {address, position: {lat, lon}}``
(stored as three columns), and each certification carries an ``expired`` flag
computed when it is read, against today's date in the technician's time zone.
Rules that span several values (overlapping hours, duplicate skills) live in
:mod:`api.technicians.rules`, which the services apply.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, post_dump, validate
from webargs.fields import DelimitedList

from api.http.pagination import PageArgs
from api.http.schemas import PositionSchema, Schema, UTCDateTime, text
from api.technicians import rules

_SKILL_SLUG = validate.Regexp(rules.SKILL_SLUG)
_SKILL_LEVEL = validate.Range(min=rules.MIN_SKILL_LEVEL, max=rules.MAX_SKILL_LEVEL)


class HomeBaseSchema(Schema):
    address = text(500)
    position = fields.Nested(PositionSchema, allow_none=True)


class SkillSchema(Schema):
    skill = fields.String(
        required=True, validate=_SKILL_SLUG, metadata={"description": "Slug: a-z 0-9 _ -"}
    )
    level = fields.Integer(required=True, validate=_SKILL_LEVEL)


class CertificationSchema(Schema):
    name = fields.String()
    number = fields.String(allow_none=True)
    issued_on = fields.String(allow_none=True, metadata={"format": "date"})
    expires_on = fields.String(allow_none=True, metadata={"format": "date"})
    expired = fields.Boolean(
        metadata={"description": "expires_on is before today in the technician's time zone"}
    )


class CertificationInputSchema(Schema):
    name = text(200, required=True)
    number = text(80)
    issued_on = fields.Date(allow_none=True)
    expires_on = fields.Date(allow_none=True)


_WORKING_HOURS_DOC = {
    "description": (
        'Per weekday (mon..sun), up to 4 sorted, non-overlapping ["HH:MM", "HH:MM"] '
        "intervals in 24-hour local time; 24:00 may end an interval. A missing day is a "
        'day off. Example: {"mon": [["08:30", "12:00"], ["13:00", "17:30"]]}'
    )
}


class TechnicianSchema(Schema):
    id = fields.UUID(dump_only=True)
    user_id = fields.UUID(
        dump_only=True, allow_none=True, metadata={"description": "Their login user, if any"}
    )
    team_id = fields.UUID(allow_none=True)
    employee_no = fields.String(allow_none=True)
    name = fields.String()
    name_en = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    home_base = fields.Nested(HomeBaseSchema, allow_none=True)
    timezone = fields.String()
    working_hours = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.List(fields.String())),
        metadata=_WORKING_HOURS_DOC,
    )
    certifications = fields.List(fields.Nested(CertificationSchema))
    skills = fields.List(fields.Nested(SkillSchema))
    active = fields.Boolean()
    version = fields.Integer(dump_only=True)
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)

    @post_dump(pass_original=True)
    def _computed(self, data: dict[str, Any], technician: Any, **_: Any) -> dict[str, Any]:
        """Fields that are not columns: the home base and each certificate's expiry."""
        position = None
        if technician.home_lat is not None and technician.home_lon is not None:
            position = {"lat": technician.home_lat, "lon": technician.home_lon}
        data["home_base"] = {"address": technician.home_address, "position": position}
        today = rules.local_today(technician.timezone)
        for cert in data.get("certifications") or []:
            cert["expired"] = rules.certification_expired(cert, today)
        return data


class TechnicianUpdateSchema(Schema):
    employee_no = text(40)
    name = text(200, allow_none=False)
    name_en = text(200)
    phone = text(40)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    home_base = fields.Nested(
        HomeBaseSchema,
        allow_none=True,
        metadata={"description": "Replaced as a whole; null clears it"},
    )
    timezone = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "IANA time zone, e.g. Asia/Shanghai"},
    )
    working_hours = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=16)),
        values=fields.List(fields.List(fields.String(validate=validate.Length(max=16)))),
        metadata=_WORKING_HOURS_DOC,
    )
    certifications = fields.List(
        fields.Nested(CertificationInputSchema), validate=validate.Length(max=50)
    )
    skills = fields.List(
        fields.Nested(SkillSchema),
        validate=validate.Length(max=100),
        metadata={"description": "The whole set: replaces every skill the technician had"},
    )
    team_id = fields.UUID(allow_none=True)
    active = fields.Boolean(metadata={"description": "false deactivates; there is no delete"})


class TechnicianCreateSchema(TechnicianUpdateSchema):
    id = fields.UUID(metadata={"description": "Client-generated UUIDv7 (optional)"})
    name = text(200, required=True)


class SkillRequirementField(fields.String):
    """``hvac`` (any level) or ``hvac:3`` (level 3 or more), as a (slug, level) pair."""

    default_error_messages = {
        "invalid": "Use a skill slug, optionally with a minimum level 1-5: hvac or hvac:3"
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        slug, sep, level = super()._deserialize(value, attr, data, **kwargs).partition(":")
        if not rules.SKILL_SLUG.match(slug):
            raise self.make_error("invalid")
        if not sep:
            return (slug, rules.MIN_SKILL_LEVEL)
        if level not in {str(n) for n in range(rules.MIN_SKILL_LEVEL, rules.MAX_SKILL_LEVEL + 1)}:
            raise self.make_error("invalid")
        return (slug, int(level))


class TechnicianListArgs(PageArgs):
    active = fields.Boolean()
    team_id = fields.UUID()
    skill = DelimitedList(
        SkillRequirementField(),
        validate=validate.Length(max=10),
        metadata={"description": "hvac or hvac:3 (level >= 3); comma-separated, all must match"},
    )
    q = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Name, English name or employee number contains"},
    )


class TechnicianPhotoSchema(Schema):
    small_url = fields.String(metadata={"description": "96×96 WebP, for lists and markers"})
    large_url = fields.String(metadata={"description": "320×320 WebP"})
    expires_at = UTCDateTime(metadata={"description": "When the links stop working"})
    updated_at = UTCDateTime()
