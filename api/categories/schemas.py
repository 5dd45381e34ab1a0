"""Category request/response schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from api.categories.models import MAX_DEPTH
from api.http.pagination import PageArgs
from api.http.schemas import Schema, UTCDateTime, text
from api.technicians.schemas import SkillSchema

SORT_ORDER_RANGE = validate.Range(min=-1_000_000, max=1_000_000)
MAX_SKILLS = 20
_SKILLS_DOC = (
    "Skills (with a minimum level) every technician on this category's orders needs; "
    "categories below it inherit them"
)


class CategorySchema(Schema):
    id = fields.UUID(dump_only=True)
    parent_id = fields.UUID(dump_only=True, allow_none=True)
    level = fields.Integer(
        dump_only=True, metadata={"description": "1 department, 2 domain, 3 symptom"}
    )
    code = fields.String(dump_only=True)
    name = fields.String()
    name_en = fields.String(allow_none=True)
    sort_order = fields.Integer()
    active = fields.Boolean()
    requires_sign_off = fields.Boolean(
        metadata={"description": "Completing its orders (and those below it) needs a sign-off"}
    )
    required_skills = fields.List(
        fields.Nested(SkillSchema), metadata={"description": _SKILLS_DOC + " (its own)"}
    )
    version = fields.Integer(dump_only=True)
    created_at = UTCDateTime(dump_only=True)
    updated_at = UTCDateTime(dump_only=True)


class InheritedSkillSchema(SkillSchema):
    category_id = fields.UUID(
        required=True, metadata={"description": "The category on the path that asks for it"}
    )


class CategorySkillsSchema(Schema):
    category_id = fields.UUID(required=True)
    own = fields.List(fields.Nested(SkillSchema), required=True)
    effective = fields.List(
        fields.Nested(InheritedSkillSchema),
        required=True,
        metadata={
            "description": "What its orders need: the skills of its whole path (level 1 down), "
            "each at the highest level asked for"
        },
    )


class CategoryNodeSchema(Schema):
    id = fields.UUID()
    code = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    level = fields.Integer()
    # A lambda because the schema nests itself (not yet defined at this line).
    children = fields.List(fields.Nested(lambda: CategoryNodeSchema()))  # noqa: PLW0108


class CategoryUpdateSchema(Schema):
    name = text(120, allow_none=False)
    name_en = text(120)
    sort_order = fields.Integer(validate=SORT_ORDER_RANGE, metadata={"description": "Lower first"})
    active = fields.Boolean(
        metadata={"description": "Deactivate children first; activate the parent first"}
    )
    requires_sign_off = fields.Boolean(
        metadata={
            "description": "Completing orders of this category, or of any below it, needs the "
            "customer's signature or a recorded refusal (default false)"
        }
    )
    required_skills = fields.List(
        fields.Nested(SkillSchema),
        validate=validate.Length(max=MAX_SKILLS),
        metadata={"description": _SKILLS_DOC + "; replaces the list"},
    )


class CategoryCreateSchema(CategoryUpdateSchema):
    id = fields.UUID(metadata={"description": "Client-generated UUIDv7 (optional)"})
    parent_id = fields.UUID(
        allow_none=True, metadata={"description": "Omit for a level-1 (department) category"}
    )
    code = fields.String(
        required=True,
        validate=[
            validate.Length(min=1),
            validate.Length(max=64),
            validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"),
        ],
        metadata={"description": "Unique in the tenant; letters, digits, `_`, `.`, `-`"},
    )
    name = text(120, required=True)


class CategoryListArgs(PageArgs):
    level = fields.Integer(validate=validate.Range(min=1, max=MAX_DEPTH))
    parent_id = fields.UUID()
    code = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "Exact"})
    active = fields.Boolean()
