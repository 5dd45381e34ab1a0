"""Category use cases: growing and curating the tenant's three-level taxonomy.

Two invariants hold after every change: a category sits exactly one level
below its parent (at most three levels), and an active category never hangs
under an inactive one, so the tree of active categories has no gaps.
Each category lists the skills its orders need (:mod:`api.categories.skills`).
A category's place (parent, level) and code never change once created:
work orders and routing rules refer to them. Retire a category by
deactivating it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.audit.changes import apply_changes, snapshot
from api.auth.actor import Actor
from api.categories.errors import (
    CategoryCodeTaken,
    CategoryHasActiveChildren,
    CategoryParentInactive,
    CategoryTooDeep,
)
from api.categories.models import MAX_DEPTH, Category
from api.categories.queries import access_category
from api.categories.skills import duplicate_problems, replace_skills, skill_list
from api.db import UnitOfWork, utcnow
from api.db.checks import check_version, ensure_unused_id, pick
from api.errors.base import FieldProblem
from api.errors.common import ValidationFailed

UPDATE_FIELDS = frozenset({"name", "name_en", "sort_order", "active", "requires_sign_off"})
CREATE_FIELDS = UPDATE_FIELDS | {"code"}


def create_category(uow: UnitOfWork, actor: Actor, data: Mapping[str, Any]) -> Category:
    with uow:
        session = uow.session
        parent_id = data.get("parent_id")
        parent = access_category(session, actor, parent_id) if parent_id else None
        level = parent.level + 1 if parent else 1
        if level > MAX_DEPTH:
            raise CategoryTooDeep(
                errors=[FieldProblem("parent_id", "invalid", "The parent is already a leaf.")]
            )
        if parent is not None and not parent.active and data.get("active", True):
            raise CategoryParentInactive()
        _check_skills(data)
        category_id = data.get("id") or None
        ensure_unused_id(session, Category, category_id)
        _ensure_code_free(session, actor, data["code"])
        category = Category(
            tenant_id=actor.tenant_id, parent_id=parent.id if parent else None, level=level
        )
        if category_id:
            category.id = category_id
        apply_changes(category, pick(data, CREATE_FIELDS), CREATE_FIELDS)
        replace_skills(category, data.get("required_skills") or [])
        session.add(category)
        session.flush()  # assigns defaults (sort_order, active, id) before the audit snapshot
        changes = snapshot(category, CREATE_FIELDS | {"parent_id", "level"})
        changes["required_skills"] = {"after": skill_list(category.required_skills)}
        audit.record(session, actor, "create", "category", category.id, changes)
        uow.commit()
        return category


def update_category(
    uow: UnitOfWork,
    actor: Actor,
    category_id: uuid.UUID,
    expected_version: int,
    changes: Mapping[str, Any],
) -> Category:
    with uow:
        session = uow.session
        category = access_category(session, actor, category_id)
        check_version(category, expected_version)
        activating = changes.get("active") is True and not category.active
        deactivating = changes.get("active") is False and category.active
        if deactivating and _has_active_children(session, category):
            raise CategoryHasActiveChildren()
        if activating and category.parent_id is not None:
            parent = access_category(session, actor, category.parent_id)
            if not parent.active:
                raise CategoryParentInactive()
        _check_skills(changes)
        diff = apply_changes(category, pick(changes, UPDATE_FIELDS), UPDATE_FIELDS)
        if changes.get("required_skills") is not None:
            diff.update(replace_skills(category, changes["required_skills"]))
            # The skills live in another table: touching the row bumps its version, so
            # ETags notice the change.
            category.updated_at = utcnow()
        audit.record(session, actor, "update", "category", category.id, diff)
        uow.commit()
        return category


def _has_active_children(session: Session, category: Category) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    Category.tenant_id == category.tenant_id,
                    Category.parent_id == category.id,
                    Category.active.is_(True),
                )
            )
        )
    )


def _ensure_code_free(session: Session, actor: Actor, code: str) -> None:
    if session.scalar(
        select(exists().where(Category.tenant_id == actor.tenant_id, Category.code == code))
    ):
        raise CategoryCodeTaken()


def _check_skills(data: Mapping[str, Any]) -> None:
    problems = duplicate_problems(data.get("required_skills") or [], "required_skills")
    if problems:
        raise ValidationFailed(errors=problems)
