"""The demo company's people: office users, three teams and twenty technicians.

Technicians get skills with levels (what dispatch filters on), certifications
(some expired, as in real life), Shanghai home bases and working hours. Each
technician logs in as ``techNN@demo.fieldline.dev``; two of them have left the
company and are inactive.

Working hours: most work weekdays 08:30-17:30 (some a Saturday too); like a real
maintenance contractor, each team keeps an on-call rota (:data:`ROTA`) so that
someone of every team is on shift at any hour of the week, and a dispatcher
trying the demo at night or on a Sunday still has someone to send.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from api.auth.permissions import Role
from api.db import new_id
from api.demo.context import DemoContext
from api.demo.data import DISTRICTS
from api.demo.logins import (
    ADMIN_EMAIL,
    ADMIN_NAME,
    DISPATCHER_EMAIL,
    DISPATCHER_NAME,
    TECH01_NAME,
    technician_email,
)
from api.teams.models import Team
from api.technicians.models import Technician, TechnicianSkill
from api.users.models import User


@dataclass(frozen=True)
class TeamSeed:
    name: str
    name_en: str
    region: str
    homes: tuple[str, ...]  # one home district per member; the first member leads
    elevator: bool = False


TEAMS = (
    TeamSeed(
        "浦东组",
        "Pudong Team",
        "浦东新区",
        ("浦东新区", "浦东新区", "杨浦区", "浦东新区", "闵行区", "浦东新区", "浦东新区", "虹口区"),
    ),
    TeamSeed(
        "浦西组",
        "Puxi Team",
        "浦西",
        ("徐汇区", "静安区", "黄浦区", "长宁区", "普陀区", "闵行区", "虹口区"),
    ),
    TeamSeed(
        "电梯专业组",
        "Elevator Specialists",
        "全市",
        ("宝山区", "嘉定区", "松江区", "青浦区", "杨浦区"),
        elevator=True,
    ),
)
INACTIVE = frozenset({7, 14})  # tech07 and tech14 have left
GENERAL_SKILLS = (
    "hvac",
    "electrical",
    "plumbing",
    "fire_safety",
    "refrigeration",
    "generator",
    "access_control",
    "it_network",
)
# skill → (certificate, English name, years valid or None for a lifelong qualification)
CERTIFICATES: dict[str, tuple[str, str, int | None]] = {
    "electrical": (
        "特种作业操作证（低压电工作业）",
        "Special Operations Certificate (Low-voltage Electrician)",
        6,
    ),
    "generator": (
        "特种作业操作证（高压电工作业）",
        "Special Operations Certificate (High-voltage Electrician)",
        6,
    ),
    "hvac": (
        "特种作业操作证（制冷与空调设备运行操作）",
        "Special Operations Certificate (Refrigeration and AC Operation)",
        6,
    ),
    "plumbing": (
        "特种作业操作证（熔化焊接与热切割作业）",
        "Special Operations Certificate (Welding and Thermal Cutting)",
        6,
    ),
    "elevator": (
        "特种设备作业人员证（电梯修理）",
        "Special Equipment Operator Certificate (Elevator Repair)",
        4,
    ),
    "fire_safety": ("消防设施操作员职业资格证书", "Fire Facility Operator Qualification", None),
    "it_network": ("华为认证 HCIA-Datacom", "Huawei Certified ICT Associate (Datacom)", 3),
}
HEIGHT_CERTIFICATE = (
    "特种作业操作证（高处作业）",
    "Special Operations Certificate (Working at Height)",
    6,
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
# A team's on-call rota, by position in the team (the leader, 0, works days): the nights
# that begin Monday to Thursday, the nights that begin Friday to Sunday, and weekend
# days. A night runs 16:30 to 09:30 the next morning, so each handover (with the day
# shift, 08:30-17:30) overlaps by an hour: at any moment someone stays on shift for at
# least the next hour, and a job still fits a customer's window that is about to end.
_EVENING, _MORNING = ["16:30", "24:00"], ["00:00", "09:30"]


def _nights(evenings: tuple[str, ...]) -> dict[str, list[list[str]]]:
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    hours: dict[str, list[list[str]]] = {}
    for day in evenings:
        hours.setdefault(day, []).append(_EVENING)
        hours.setdefault(days[(days.index(day) + 1) % 7], []).insert(0, _MORNING)
    return hours


ROTA: dict[int, dict[str, Any]] = {
    1: _nights(("mon", "tue", "wed", "thu")),
    2: _nights(("fri", "sat", "sun")),
    3: {day: [["08:30", "17:30"]] for day in ("sat", "sun")},
}


@dataclass(frozen=True)
class Staff:
    admin: User
    dispatcher: User
    technicians: tuple[Technician, ...]  # tech01 first
    users: dict[uuid.UUID, User]  # technician id → their login


def build_staff(ctx: DemoContext) -> Staff:
    admin = _user(ctx, ADMIN_EMAIL, ADMIN_NAME[0], Role.ADMIN)
    dispatcher = _user(ctx, DISPATCHER_EMAIL, DISPATCHER_NAME[0], Role.DISPATCHER)
    for name in (ADMIN_NAME, DISPATCHER_NAME, TECH01_NAME):
        ctx.reserve_name(name[0])
    technicians: list[Technician] = []
    users: dict[uuid.UUID, User] = {}
    number = 0
    for seed in TEAMS:
        team = ctx.add(
            Team(
                id=new_id(),
                tenant_id=ctx.tenant_id,
                name=seed.name,
                name_en=seed.name_en,
                region=seed.region,
            )
        )
        for position, district in enumerate(seed.homes):
            number += 1
            tech, user = _technician(ctx, number, district, team, seed.elevator, position)
            if position == 0:
                team.supervisor_user_id = user.id
            technicians.append(tech)
            users[tech.id] = user
    return Staff(admin, dispatcher, tuple(technicians), users)


def _user(ctx: DemoContext, email: str, name: str, role: Role, active: bool = True) -> User:
    # Every demo user shares one Argon2 hash of the shared password: hashing per
    # user would add seconds to the load for no security gain in a public demo.
    return ctx.add(
        User(
            id=new_id(),
            tenant_id=ctx.tenant_id,
            email=email,
            name=name,
            role=role,
            password_hash=ctx.password_hash,
            active=active,
            locale="zh-CN",
        )
    )


def _technician(
    ctx: DemoContext, number: int, district: str, team: Team, elevator: bool, position: int
) -> tuple[Technician, User]:
    rng = ctx.rng
    name, name_en = TECH01_NAME if number == 1 else ctx.person()
    active = number not in INACTIVE
    email = technician_email(number)
    user = _user(ctx, email, name, Role.TECHNICIAN, active=active)
    lat, lon = ctx.point(district)
    road, _ = rng.choice(DISTRICTS[district].roads)
    skills = _skills(ctx, number, elevator)
    tech = ctx.add(
        Technician(
            id=new_id(),
            tenant_id=ctx.tenant_id,
            user_id=user.id,
            team_id=team.id,
            employee_no=f"SC{rng.randint(2012, 2024)}{number:03d}",
            name=name,
            name_en=name_en,
            phone=ctx.mobile("138"),
            email=email,
            home_address=f"上海市{district}{road}{rng.randint(10, 999)}弄{rng.randint(1, 60)}号",
            home_lat=lat,
            home_lon=lon,
            working_hours=_working_hours(ctx, position),
            certifications=_certifications(ctx, skills),
            active=active,
        )
    )
    tech.skill_levels = dict(skills)
    tech.skills = [
        TechnicianSkill(tenant_id=ctx.tenant_id, skill=skill, level=level)
        for skill, level in skills.items()
    ]
    return tech, user


def _skills(ctx: DemoContext, number: int, elevator: bool) -> dict[str, int]:
    rng = ctx.rng
    if number == 1:
        return {"hvac": 5, "refrigeration": 4, "electrical": 3}
    if elevator:
        skills = {"elevator": rng.randint(3, 5), "electrical": rng.randint(2, 3)}
        if rng.random() < 0.4:
            skills["fire_safety"] = rng.randint(1, 2)
        return skills
    primary = GENERAL_SKILLS[number % len(GENERAL_SKILLS)]
    skills = {primary: rng.randint(3, 5)}
    others = [s for s in GENERAL_SKILLS if s != primary]
    for skill in rng.sample(others, rng.randint(1, 3)):
        skills[skill] = rng.randint(1, 3)
    return skills


def _certifications(ctx: DemoContext, skills: dict[str, int]) -> list[dict[str, Any]]:
    rng = ctx.rng
    wanted = [CERTIFICATES[s] for s, level in skills.items() if level >= 2 and s in CERTIFICATES]
    if rng.random() < 0.5:
        wanted.append(HEIGHT_CERTIFICATE)
    result = []
    for name, name_en, years in dict.fromkeys(wanted):
        issued = ctx.today - timedelta(days=rng.randint(100, 2700))
        expires: date | None = None
        if years is not None:
            expires = issued + timedelta(days=365 * years)
        result.append(
            {
                # The documented shape has one name; keep it bilingual in that field.
                "name": f"{name} / {name_en}",
                "number": f"SH{issued.year}{rng.randint(100000, 999999)}",
                "issued_on": issued.isoformat(),
                "expires_on": expires.isoformat() if expires else None,
            }
        )
    return result


def _working_hours(ctx: DemoContext, position: int) -> dict[str, Any]:
    saturday = ctx.rng.random() < 0.35  # drawn for everyone: the rest stays as it was
    if position in ROTA:
        return {day: [list(span) for span in spans] for day, spans in ROTA[position].items()}
    hours: dict[str, Any] = {day: [["08:30", "17:30"]] for day in WEEKDAYS}
    if saturday:
        hours["sat"] = [["09:00", "15:00"]]  # weekend rota
    return hours
