"""What an order of a category needs of its technician: skills inherited down the tree.

A category lists the skills (each with a minimum level) its orders need; a
category below it needs those too. So the skills an order needs are the union
along its category's path (department → domain → symptom) plus any the order
itself adds, each skill at the highest level any of them asks for. Dispatch
filters candidates by the result (:mod:`api.dispatching.services`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from api.categories.models import Category, CategorySkill
from api.categories.queries import category_path
from api.errors.base import FieldProblem

Requirements = dict[str, int]  # skill → minimum level


@dataclass(frozen=True)
class Inherited:
    """One skill an order of the category needs, and the category that asks for it."""

    skill: str
    level: int
    category_id: uuid.UUID


def merged(*requirements: Iterable[Mapping[str, Any]]) -> Requirements:
    """Union of ``[{"skill", "level"}]`` lists, each skill at its highest level."""
    needed: Requirements = {}
    for items in requirements:
        for item in items:
            needed[item["skill"]] = max(needed.get(item["skill"], 0), int(item["level"]))
    return dict(sorted(needed.items()))


def inherited_skills(session: Session, category: Category) -> list[Inherited]:
    """Every skill the category's path asks for, from level 1 down; where a skill is
    asked for twice, the higher level is kept, named by the category asking for it."""
    chosen: dict[str, Inherited] = {}
    for node in category_path(session, category):
        for row in node.required_skills:
            known = chosen.get(row.skill)
            if known is None or row.level > known.level:
                chosen[row.skill] = Inherited(row.skill, row.level, node.id)
    return [chosen[name] for name in sorted(chosen)]


def order_requirements(
    session: Session, category_id: uuid.UUID | None, *own: Iterable[Mapping[str, Any]] | None
) -> Requirements:
    """What a work order of ``category_id`` needs, with its ``own`` extra skill lists."""
    from_tree: list[dict[str, Any]] = []
    category = session.get(Category, category_id) if category_id is not None else None
    if category is not None:
        from_tree = [
            {"skill": i.skill, "level": i.level} for i in inherited_skills(session, category)
        ]
    return merged(from_tree, *(items or () for items in own))


def replace_skills(
    category: Category, wanted: Sequence[Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Make the category's own skill rows exactly ``wanted``; the audit diff entry."""
    before = skill_list(category.required_skills)
    existing = {row.skill: row for row in category.required_skills}
    rows = []
    for item in sorted(wanted, key=lambda item: item["skill"]):
        row = existing.get(item["skill"]) or CategorySkill(
            tenant_id=category.tenant_id, skill=item["skill"]
        )
        row.level = item["level"]
        rows.append(row)
    category.required_skills = rows
    after = skill_list(rows)
    return {} if after == before else {"required_skills": {"before": before, "after": after}}


def skill_list(rows: Iterable[CategorySkill]) -> list[dict[str, Any]]:
    return [{"skill": row.skill, "level": row.level} for row in rows]


def duplicate_problems(items: Sequence[Mapping[str, Any]], field: str) -> list[FieldProblem]:
    """Each skill may be listed once."""
    seen: set[str] = set()
    problems = []
    for index, item in enumerate(items):
        if item["skill"] in seen:
            problems.append(
                FieldProblem(f"{field}.{index}.skill", "duplicate", "Each skill may appear once")
            )
        seen.add(item["skill"])
    return problems
