"""Technician use cases. Each owns one unit of work and audits what it changes.

There is no delete: a technician who leaves is deactivated (``active=false``)
so the work orders, GPS trails and signatures that name them keep their
history. Skills are child rows; a request that sends ``skills`` replaces the
whole set.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from api.audit import services as audit
from api.audit.changes import Diff, apply_changes, jsonable, snapshot
from api.auth.actor import Actor
from api.db import UnitOfWork, utcnow
from api.db.checks import check_version, ensure_unused_id, pick
from api.teams.queries import access_team
from api.technicians import rules
from api.technicians.models import Technician, TechnicianSkill
from api.technicians.queries import access_technician

TECHNICIAN_FIELDS = frozenset(
    {
        "employee_no",
        "name",
        "name_en",
        "phone",
        "email",
        "home_address",
        "home_lat",
        "home_lon",
        "timezone",
        "working_hours",
        "certifications",
        "team_id",
        "active",
    }
)
_PLAIN_FIELDS = TECHNICIAN_FIELDS - {"home_address", "home_lat", "home_lon"}
_CERTIFICATION_KEYS = ("name", "number", "issued_on", "expires_on")


def create_technician(uow: UnitOfWork, actor: Actor, data: Mapping[str, Any]) -> Technician:
    rules.check_profile(data)
    with uow:
        session = uow.session
        technician_id = data.get("id") or None
        ensure_unused_id(session, Technician, technician_id)
        technician = Technician(tenant_id=actor.tenant_id)
        if technician_id:
            technician.id = technician_id
        apply_changes(technician, _columns(session, actor, data), TECHNICIAN_FIELDS)
        _replace_skills(actor, technician, data.get("skills") or [])
        session.add(technician)
        session.flush()  # assigns defaults (id, timezone) before the audit snapshot
        changes = snapshot(technician, TECHNICIAN_FIELDS)
        changes["skills"] = {"after": _skill_list(technician.skills)}
        audit.record(session, actor, "create", "technician", technician.id, changes)
        uow.commit()
        return technician


def update_technician(
    uow: UnitOfWork,
    actor: Actor,
    technician_id: uuid.UUID,
    expected_version: int,
    changes: Mapping[str, Any],
) -> Technician:
    rules.check_profile(changes)
    with uow:
        session = uow.session
        technician = access_technician(session, actor, technician_id)
        check_version(technician, expected_version)
        diff = apply_changes(technician, _columns(session, actor, changes), TECHNICIAN_FIELDS)
        if "skills" in changes:
            skills_diff = _replace_skills(actor, technician, changes["skills"])
            if skills_diff and not diff:
                # Skills live in another table; touching the row bumps its version
                # so the ETag a client holds goes stale like for any other change.
                technician.updated_at = utcnow()
            diff.update(skills_diff)
        audit.record(session, actor, "update", "technician", technician.id, diff)
        uow.commit()
        return technician


def _columns(session: Session, actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """The request's fields as column values; a team is resolved through its accessor."""
    columns = pick(data, _PLAIN_FIELDS)
    if "home_base" in data:
        home = data["home_base"] or {}
        position = home.get("position") or {}
        columns["home_address"] = home.get("address")
        columns["home_lat"] = position.get("lat")
        columns["home_lon"] = position.get("lon")
    if "working_hours" in columns:
        columns["working_hours"] = rules.normalised_working_hours(columns["working_hours"])
    if "certifications" in columns:
        columns["certifications"] = [
            {key: jsonable(cert.get(key)) for key in _CERTIFICATION_KEYS}
            for cert in columns["certifications"]
        ]
    if columns.get("team_id") is not None:
        # Another tenant's team, or one this actor may not see, is a 404 like any other.
        access_team(session, actor, columns["team_id"])
    return columns


def _replace_skills(
    actor: Actor, technician: Technician, wanted: Sequence[Mapping[str, Any]]
) -> Diff:
    """Make the skill rows exactly ``wanted``, keeping the rows that stay."""
    before = _skill_list(technician.skills)
    existing = {row.skill: row for row in technician.skills}
    rows = []
    for item in sorted(wanted, key=lambda item: item["skill"]):
        row = existing.get(item["skill"]) or TechnicianSkill(
            tenant_id=actor.tenant_id, skill=item["skill"]
        )
        row.level = item["level"]
        rows.append(row)
    technician.skills = rows
    after = _skill_list(rows)
    return {} if after == before else {"skills": {"before": before, "after": after}}


def _skill_list(rows: Sequence[TechnicianSkill]) -> list[dict[str, Any]]:
    return [{"skill": row.skill, "level": row.level} for row in rows]
