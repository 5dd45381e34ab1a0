"""A fleet of technicians written in bulk, as an import or a migration would write it:
for the nearest-technician tests and ``benchmarks/bench_nearest.py``.

Bulk inserts, not the services: the triggers of ``technician_places`` must keep the
spatial index in step whatever writes the rows, and a benchmark of 10,000
technicians through the services would take minutes to seed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from api.location.models import CurrentLocation
from api.technicians.models import Technician, TechnicianSkill
from api.tenants.models import Tenant

ALWAYS = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@dataclass(frozen=True)
class Member:
    """One technician of a fleet: where they live and their current fix (lat, lon and
    its time), if any."""

    skills: dict[str, int]
    home: tuple[float, float] | None = None
    fix: tuple[float, float, datetime] | None = None
    active: bool = True
    working_hours: dict[str, Any] = field(default_factory=lambda: ALWAYS)


def load_fleet(
    engine: Engine, members: Sequence[Member], *, name: str, analyze: bool = False
) -> uuid.UUID:
    """A new tenant holding ``members`` (technician ``n`` named ``技师 n``); its id.

    ``analyze``: fresh statistics afterwards, as autovacuum would give a real fleet
    (without them PostgreSQL takes a just-loaded table for a handful of rows and
    plans a nested loop)."""
    tenant_id = uuid.uuid4()
    techs, skills, fixes = [], [], []
    for n, member in enumerate(members):
        tech_id = uuid.uuid4()
        home = member.home or (None, None)
        techs.append(
            {"id": tech_id, "tenant_id": tenant_id, "name": f"技师 {n}", "employee_no": f"F{n:05d}",
             "home_lat": home[0], "home_lon": home[1], "working_hours": member.working_hours,
             "certifications": [], "active": member.active,
             "skill_levels": member.skills}  # as the technician services keep it
        )  # fmt: skip
        skills += [
            {"tenant_id": tenant_id, "technician_id": tech_id, "skill": skill, "level": level}
            for skill, level in member.skills.items()
        ]
        if member.fix is not None:
            lat, lon, at = member.fix
            fixes.append(
                {"tenant_id": tenant_id, "technician_id": tech_id, "device_id": f"d{n}",
                 "fixed_at": at, "lat": lat, "lon": lon, "accuracy_m": 8.0, "updated_at": at}
            )  # fmt: skip
    with Session(engine) as session:
        session.add(Tenant(id=tenant_id, slug=f"{name}-{tenant_id.hex[:12]}", name=name))
        session.flush()  # the tenant before the rows that refer to it
        for model, rows in (
            (Technician, techs),
            (TechnicianSkill, skills),
            (CurrentLocation, fixes),
        ):
            if rows:
                session.execute(insert(model), rows)
        session.commit()
    if analyze:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    return tenant_id
