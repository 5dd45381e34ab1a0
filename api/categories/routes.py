"""``/v1/categories``: the tenant's category taxonomy, as a flat list and as a tree."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.auth.permissions import Permission
from api.categories import queries, services, skills
from api.categories.schemas import (
    CategoryCreateSchema,
    CategoryListArgs,
    CategoryNodeSchema,
    CategorySchema,
    CategorySkillsSchema,
    CategoryUpdateSchema,
)
from api.http.blueprint import Blueprint
from api.http.context import new_uow, read_uow
from api.http.etag import etag_header, if_match
from api.http.guard import current_actor, requires
from api.http.idempotency import idempotent
from api.http.pagination import page_schema

blp = Blueprint(
    "categories",
    __name__,
    url_prefix="/v1",
    description="Work order categories: department → domain → symptom",
)


@blp.route("/categories")
class Categories(MethodView):
    @requires(Permission.CATEGORIES_READ)
    @blp.arguments(CategoryListArgs, location="query")
    @blp.response(200, page_schema(CategorySchema))
    def get(self, args: dict[str, Any]) -> Any:
        """List categories, active or not, ordered by `level`, then `sort_order`, then
        `code` (byte order). The cursor pages through that order."""
        with read_uow() as uow:
            return queries.list_categories(uow.session, current_actor(), **args)

    @requires(Permission.CATEGORIES_WRITE)
    @idempotent
    @blp.arguments(CategoryCreateSchema)
    @blp.response(201, CategorySchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a category one level below `parent_id` (or at level 1 without it)."""
        category = services.create_category(new_uow(), current_actor(), data)
        return category, etag_header(category.version)


@blp.route("/categories/tree")
class CategoryTree(MethodView):
    @requires(Permission.CATEGORIES_READ)
    @blp.response(200, CategoryNodeSchema(many=True))
    def get(self) -> Any:
        """The active categories as a nested tree (a JSON array of level-1 nodes), each
        level ordered by `sort_order`, then `code`. Not paginated: it is small."""
        with read_uow() as uow:
            return queries.category_tree(uow.session, current_actor())


@blp.route("/categories/<uuid:category_id>")
class CategoryById(MethodView):
    @requires(Permission.CATEGORIES_READ)
    @blp.response(200, CategorySchema)
    def get(self, category_id: uuid.UUID) -> Any:
        """Read a category."""
        with read_uow() as uow:
            category = queries.access_category(uow.session, current_actor(), category_id)
        return category, etag_header(category.version)

    @requires(Permission.CATEGORIES_WRITE)
    @if_match
    @blp.arguments(CategoryUpdateSchema)
    @blp.response(200, CategorySchema)
    def patch(self, changes: dict[str, Any], category_id: uuid.UUID, version: int) -> Any:
        """Rename, reorder, deactivate or reactivate a category. Needs `If-Match`.
        Its code, parent and level never change."""
        category = services.update_category(
            new_uow(), current_actor(), category_id, version, changes
        )
        return category, etag_header(category.version)


@blp.route("/categories/<uuid:category_id>/required-skills")
class CategorySkills(MethodView):
    @requires(Permission.CATEGORIES_READ)
    @blp.response(200, CategorySkillsSchema)
    def get(self, category_id: uuid.UUID) -> Any:
        """The skills an order of this category needs: its own, and those it inherits from
        the categories above it (each skill at the highest level asked for on the path).
        Set them with `required_skills` on the category."""
        with read_uow() as uow:
            category = queries.access_category(uow.session, current_actor(), category_id)
            effective = skills.inherited_skills(uow.session, category)
            own = skills.skill_list(category.required_skills)
        return {"category_id": category.id, "own": own, "effective": effective}
