"""Technician use cases. Each owns one unit of work and audits what it changes.

There is no delete: a technician who leaves is deactivated (``active=false``)
so the work orders, GPS trails and signatures that name them keep their
history; their login is deactivated with them (sessions revoked, as when the
user is deactivated), and reactivating the technician leaves the login to an
admin. ``employee_no`` is unique in a tenant (``technician.employee_no_taken``;
blank means none). Skills are child rows; a request that sends ``skills``
replaces the whole set.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.audit import services as audit
from api.audit.changes import Diff, apply_changes, jsonable, snapshot
from api.auth.actor import Actor
from api.db import UnitOfWork, utcnow
from api.db.checks import check_version, ensure_unused_id, pick
from api.errors.base import FieldProblem
from api.teams.queries import access_team
from api.technicians import rules
from api.technicians.errors import EmployeeNoTaken
from api.technicians.models import Technician, TechnicianSkill
from api.technicians.queries import access_technician
from api.users.services import deactivate_login

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
    with _employee_no_race(), uow:
        session = uow.session
        technician_id = data.get("id") or None
        ensure_unused_id(session, Technician, technician_id)
        technician = Technician(tenant_id=actor.tenant_id)
        if technician_id:
            technician.id = technician_id
        _ensure_employee_no_free(session, actor, _employee_no(data), technician_id)
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
    with _employee_no_race(), uow:
        session = uow.session
        technician = access_technician(session, actor, technician_id)
        check_version(technician, expected_version)
        if "employee_no" in changes and _employee_no(changes) != technician.employee_no:
            _ensure_employee_no_free(session, actor, _employee_no(changes), technician.id)
        diff = apply_changes(technician, _columns(session, actor, changes), TECHNICIAN_FIELDS)
        if diff.get("active", {}).get("after") is False and technician.user_id is not None:
            deactivate_login(session, actor, technician.user_id)
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


def _ensure_employee_no_free(
    session: Session, actor: Actor, employee_no: str | None, technician_id: uuid.UUID | None
) -> None:
    """Refuse a number another technician of the tenant holds (inactive ones too: the
    number still names them in past records). The unique constraint backs this up."""
    if not employee_no:
        return
    holder = select(Technician.id).where(
        Technician.tenant_id == actor.tenant_id, Technician.employee_no == employee_no
    )
    if technician_id is not None:
        holder = holder.where(Technician.id != technician_id)
    if session.scalar(select(exists(holder))):
        raise _employee_no_taken()


@contextmanager
def _employee_no_race() -> Iterator[None]:
    """Two requests that both passed :func:`_ensure_employee_no_free` meet at the unique
    constraint: the loser gets the same stable code, not the generic conflict."""
    try:
        yield
    except IntegrityError as error:
        text = str(error.orig)
        if "uq_technicians_tenant_id_employee_no" in text or "technicians.employee_no" in text:
            raise _employee_no_taken() from None
        raise


def _employee_no_taken() -> EmployeeNoTaken:
    return EmployeeNoTaken(errors=[FieldProblem("employee_no", "taken", "Already in use")])


def _employee_no(data: Mapping[str, Any]) -> str | None:
    return (data.get("employee_no") or "").strip() or None


def _columns(session: Session, actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """The request's fields as column values; a team is resolved through its accessor."""
    columns = pick(data, _PLAIN_FIELDS)
    if "employee_no" in columns:
        columns["employee_no"] = _employee_no(data)
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
    technician.skill_levels = {row.skill: row.level for row in rows}
    after = _skill_list(rows)
    return {} if after == before else {"skills": {"before": before, "after": after}}


def _skill_list(rows: Sequence[TechnicianSkill]) -> list[dict[str, Any]]:
    return [{"skill": row.skill, "level": row.level} for row in rows]
