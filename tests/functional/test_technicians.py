"""Technicians through the HTTP API: profile, skills, hours, scoping, concurrency."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.audit.models import AuditEvent
from api.auth.permissions import Role
from tests.conftest import count_rows
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories

FULL_PROFILE: dict[str, Any] = {
    "employee_no": "SH-0042",
    "name": "李师傅",
    "name_en": "Master Li",
    "phone": "13900000042",
    "email": "li@example.com",
    "home_base": {"address": "上海市浦东新区", "position": {"lat": 31.22, "lon": 121.54}},
    "timezone": "Asia/Shanghai",
    "working_hours": {"mon": [["08:30", "12:00"], ["13:00", "17:30"]], "sat": []},
    "certifications": [
        {"name": "电工证", "number": "DG-1", "issued_on": "2020-01-01", "expires_on": "2021-01-01"},
        {"name": "制冷证", "issued_on": "2024-05-01", "expires_on": "2999-05-01"},
        {"name": "安全培训"},
    ],
    "skills": [{"skill": "hvac", "level": 4}, {"skill": "electrical", "level": 2}],
}


def _audit_actions(engine: Engine, entity_id: str) -> list[str]:
    with Session(engine) as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_id == uuid.UUID(entity_id))
            .order_by(AuditEvent.id)
        )
        return [event.action for event in events]


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def test_dispatcher_creates_reads_updates_and_lists_a_technician(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    _, token = factories.user(world, Role.DISPATCHER)
    api = client.as_(token)

    created = api.post("/v1/technicians", json=FULL_PROFILE)
    assert created.status_code == 201, created.get_json()
    assert created.headers["ETag"] == '"1"'
    body = created.get_json()
    assert body["home_base"] == {
        "address": "上海市浦东新区",
        "position": {"lat": 31.22, "lon": 121.54},
    }
    # Days off are left out; skills come back sorted by name.
    assert body["working_hours"] == {"mon": [["08:30", "12:00"], ["13:00", "17:30"]]}
    assert body["skills"] == [{"skill": "electrical", "level": 2}, {"skill": "hvac", "level": 4}]
    assert [c["expired"] for c in body["certifications"]] == [True, False, False]
    assert body["certifications"][2] == {
        "name": "安全培训",
        "number": None,
        "issued_on": None,
        "expires_on": None,
        "expired": False,
    }
    assert body["active"] is True and body["user_id"] is None and body["team_id"] is None

    read = api.get(f"/v1/technicians/{body['id']}")
    assert read.headers["ETag"] == '"1"'
    assert read.get_json() == body

    updated = api.patch(
        f"/v1/technicians/{body['id']}",
        json={"phone": "13900000043", "home_base": None},
        etag='"1"',
    )
    assert updated.status_code == 200, updated.get_json()
    assert updated.headers["ETag"] == '"2"'
    assert updated.get_json()["home_base"] == {"address": None, "position": None}

    assert _ids(api.get("/v1/technicians?q=SH-00")) == [body["id"]]
    assert _ids(api.get("/v1/technicians?q=master")) == [body["id"]]
    assert _ids(api.get("/v1/technicians?q=nobody")) == []
    assert _audit_actions(engine, body["id"]) == ["create", "update"]


def test_client_generated_id_is_kept_and_cannot_be_reused(
    client: ApiClient, factories: Factories
) -> None:
    world, other = factories.tenant(), factories.tenant()
    technician_id = str(uuid.uuid4())
    first = client.as_(world.admin_token).post(
        "/v1/technicians", json={"id": technician_id, "name": "张三"}
    )
    assert first.get_json()["id"] == technician_id
    clash = client.as_(other.admin_token).post(
        "/v1/technicians", json={"id": technician_id, "name": "李四"}
    )
    assert_problem(clash, 422, "request.validation_failed")


def test_skill_filter_needs_every_listed_skill_at_the_minimum_level(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    senior = factories.technician(world, skills=[{"skill": "hvac", "level": 4}])
    junior = factories.technician(
        world, skills=[{"skill": "hvac", "level": 2}, {"skill": "electrical", "level": 3}]
    )
    factories.technician(world, skills=[{"skill": "plumbing", "level": 5}])
    api = client.as_(world.admin_token)

    assert _ids(api.get("/v1/technicians?skill=hvac")) == [str(senior.id), str(junior.id)]
    assert _ids(api.get("/v1/technicians?skill=hvac:3")) == [str(senior.id)]
    assert _ids(api.get("/v1/technicians?skill=hvac:2")) == [str(senior.id), str(junior.id)]
    assert _ids(api.get("/v1/technicians?skill=hvac,electrical")) == [str(junior.id)]
    assert _ids(api.get("/v1/technicians?skill=hvac:3,electrical")) == []
    assert _ids(api.get("/v1/technicians?skill=welding")) == []


def test_malformed_skill_filter_is_a_validation_error(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    for bad in ("HVAC", "hvac:0", "hvac:6", "hvac:x", "hvac:", "a b"):
        response = api.get(f"/v1/technicians?skill={bad}")
        body = assert_problem(response, 422, "request.validation_failed")
        assert [e["field"] for e in body["errors"]] == ["skill.0"], bad


def test_patching_skills_replaces_the_whole_set_and_bumps_the_version(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    technician = factories.technician(
        world, skills=[{"skill": "hvac", "level": 2}, {"skill": "electrical", "level": 3}]
    )
    api = client.as_(world.admin_token)
    url = f"/v1/technicians/{technician.id}"

    response = api.patch(
        url,
        json={"skills": [{"skill": "hvac", "level": 5}, {"skill": "solar", "level": 1}]},
        etag='"1"',
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["skills"] == [
        {"skill": "hvac", "level": 5},
        {"skill": "solar", "level": 1},
    ]
    assert response.headers["ETag"] == '"2"'
    assert _ids(api.get("/v1/technicians?skill=electrical")) == []
    assert _ids(api.get("/v1/technicians?skill=hvac:5")) == [str(technician.id)]

    cleared = api.patch(url, json={"skills": []}, etag='"2"')
    assert cleared.get_json()["skills"] == [] and cleared.headers["ETag"] == '"3"'
    # Sending the same set again changes nothing: no new version, no audit event.
    same = api.patch(url, json={"skills": []}, etag='"3"')
    assert same.headers["ETag"] == '"3"'
    assert _audit_actions(engine, str(technician.id)) == ["create", "update", "update"]


def test_working_hours_mistakes_are_reported_per_interval_and_nothing_is_written(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    before = count_rows(engine)
    hours = {
        "mon": [["08:00", "12:00"], ["11:00", "13:00"]],  # overlap
        "tue": [["13:00", "17:00"], ["08:00", "12:00"]],  # out of order
        "wed": [["17:00", "08:00"], ["09:00", "09:00"]],  # end before/at start
        "thu": [["8:00", "12:00"], ["08:00", "25:00"], ["24:00", "24:00"], ["08:00"]],
        "fri": [
            ["06:00", "07:00"],
            ["08:00", "09:00"],
            ["10:00", "11:00"],
            ["12:00", "13:00"],
            ["14:00", "15:00"],
        ],
        "funday": [["08:00", "12:00"]],
    }
    response = client.as_(world.admin_token).post(
        "/v1/technicians", json={"name": "王五", "working_hours": hours}
    )
    body = assert_problem(response, 422, "request.validation_failed")
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("working_hours.mon.1", "overlapping"),
        ("working_hours.tue.1", "unsorted"),
        ("working_hours.wed.0", "end_not_after_start"),
        ("working_hours.wed.1", "end_not_after_start"),
        ("working_hours.thu.0", "invalid_format"),
        ("working_hours.thu.1", "invalid_format"),
        ("working_hours.thu.2", "invalid_format"),
        ("working_hours.thu.3", "invalid_format"),
        ("working_hours.fri", "too_many_intervals"),
        ("working_hours.funday", "not_allowed"),
    }
    assert count_rows(engine) == before


def test_touching_intervals_and_a_shift_to_midnight_are_valid_hours(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    hours = {
        "sun": [["00:00", "06:00"], ["18:00", "24:00"]],
        "mon": [["08:00", "12:00"], ["12:00", "17:00"]],
    }
    response = client.as_(world.admin_token).post(
        "/v1/technicians", json={"name": "夜班", "working_hours": hours}
    )
    assert response.status_code == 201, response.get_json()
    assert list(response.get_json()["working_hours"]) == ["mon", "sun"]


def test_profile_rules_name_each_bad_field_and_write_nothing(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    technician = factories.technician(world)
    api = client.as_(world.admin_token)
    before = count_rows(engine)
    response = api.patch(
        f"/v1/technicians/{technician.id}",
        json={
            "timezone": "Mars/Olympus_Mons",
            "certifications": [
                {"name": "电工证", "issued_on": "2024-01-02", "expires_on": "2024-01-01"}
            ],
            "skills": [{"skill": "hvac", "level": 2}, {"skill": "hvac", "level": 3}],
        },
        etag='"1"',
    )
    body = assert_problem(response, 422, "request.validation_failed")
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("timezone", "not_allowed"),
        ("certifications.0.expires_on", "before_issued_on"),
        ("skills.1.skill", "duplicate"),
    }
    shape = api.post(
        "/v1/technicians",
        json={
            "name": "x",
            "skills": [{"skill": "HVAC", "level": 6}],
            "home_base": {"position": {"lat": 91, "lon": 0}},
            "certifications": [{"issued_on": "yesterday"}],
        },
    )
    body = assert_problem(shape, 422, "request.validation_failed")
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("skills.0.skill", "invalid_format"),
        ("skills.0.level", "out_of_range"),
        ("home_base.position.lat", "out_of_range"),
        ("certifications.0.name", "required"),
        ("certifications.0.issued_on", "invalid_format"),
    }
    assert count_rows(engine) == before


def test_certificate_expiry_follows_the_technicians_local_date(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    today_far_east = dt.datetime.now(dt.timezone(dt.timedelta(hours=14))).date()
    yesterday_there = (today_far_east - dt.timedelta(days=1)).isoformat()
    response = client.as_(world.admin_token).post(
        "/v1/technicians",
        json={
            "name": "基里巴斯",
            "timezone": "Pacific/Kiritimati",
            "certifications": [
                {"name": "A", "expires_on": yesterday_there},
                {"name": "B", "expires_on": today_far_east.isoformat()},
            ],
        },
    )
    assert [c["expired"] for c in response.get_json()["certifications"]] == [True, False]


def test_technician_joins_a_team_of_the_same_tenant_only(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world, other = factories.tenant(), factories.tenant()
    team = factories.team(world)
    foreign_team = factories.team(other)
    technician = factories.technician(world)
    api = client.as_(world.admin_token)
    url = f"/v1/technicians/{technician.id}"

    before = count_rows(engine)
    assert_problem(
        api.patch(url, json={"team_id": str(foreign_team.id)}, etag='"1"'), 404, "team.not_found"
    )
    assert_problem(
        api.post("/v1/technicians", json={"name": "x", "team_id": str(foreign_team.id)}),
        404,
        "team.not_found",
    )
    assert count_rows(engine) == before

    joined = api.patch(url, json={"team_id": str(team.id)}, etag='"1"')
    assert joined.get_json()["team_id"] == str(team.id)
    assert _ids(api.get(f"/v1/technicians?team_id={team.id}")) == [str(technician.id)]
    left = api.patch(url, json={"team_id": None}, etag='"2"')
    assert left.get_json()["team_id"] is None


def test_another_tenants_technician_is_not_found(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world, other = factories.tenant(), factories.tenant()
    foreign = factories.technician(other)
    api = client.as_(world.admin_token)
    before = count_rows(engine)
    assert_problem(api.get(f"/v1/technicians/{foreign.id}"), 404, "technician.not_found")
    assert_problem(
        api.patch(f"/v1/technicians/{foreign.id}", json={"name": "x"}, etag='"1"'),
        404,
        "technician.not_found",
    )
    assert_problem(api.get(f"/v1/technicians/{uuid.uuid4()}"), 404, "technician.not_found")
    assert _ids(api.get("/v1/technicians")) == []
    assert count_rows(engine) == before


def test_deactivated_technician_stays_readable_and_cannot_be_deleted(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    leaving = factories.technician(world)
    staying = factories.technician(world)
    api = client.as_(world.admin_token)
    url = f"/v1/technicians/{leaving.id}"

    assert api.patch(url, json={"active": False}, etag='"1"').get_json()["active"] is False
    assert api.get(url).get_json()["name"] == leaving.name
    assert _ids(api.get("/v1/technicians?active=true")) == [str(staying.id)]
    assert _ids(api.get("/v1/technicians?active=false")) == [str(leaving.id)]
    assert_problem(api.delete(url, etag='"2"'), 405, "request.method_not_allowed")


def test_update_without_if_match_is_428_and_stale_is_412(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    technician = factories.technician(world)
    api = client.as_(world.admin_token)
    url = f"/v1/technicians/{technician.id}"
    assert_problem(api.patch(url, json={"name": "X"}), 428, "concurrency.if_match_required")
    assert api.patch(url, json={"name": "X"}, etag='"1"').status_code == 200
    stale = api.patch(url, json={"skills": [{"skill": "hvac", "level": 1}]}, etag='"1"')
    assert assert_problem(stale, 412, "concurrency.stale_version")["current_version"] == 2
    read = api.get(url).get_json()
    assert read["name"] == "X" and read["skills"] == []


def test_technician_sees_themselves_and_teammates_only(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    team, other_team = factories.team(world), factories.team(world)
    me, _, token = factories.technician_user(world, team_id=team.id)
    mate = factories.technician(world, team_id=team.id)
    stranger = factories.technician(world, team_id=other_team.id)
    loner = factories.technician(world)
    api = client.as_(token)

    assert _ids(api.get("/v1/technicians")) == [str(me.id), str(mate.id)]
    assert _ids(api.get(f"/v1/technicians?team_id={other_team.id}")) == []
    assert api.get(f"/v1/technicians/{mate.id}").status_code == 200
    for hidden in (stranger, loner):
        assert_problem(api.get(f"/v1/technicians/{hidden.id}"), 404, "technician.not_found")
    assert_problem(
        api.patch(f"/v1/technicians/{me.id}", json={"phone": "1"}, etag=f'"{me.version}"'),
        403,
        "auth.forbidden",
    )
    assert_problem(api.post("/v1/technicians", json={"name": "x"}), 403, "auth.forbidden")


def test_technician_without_a_team_sees_only_themselves(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    me, _, token = factories.technician_user(world)
    factories.technician(world)
    assert _ids(client.as_(token).get("/v1/technicians")) == [str(me.id)]


def test_customer_contacts_may_not_read_technicians(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    technician = factories.technician(world)
    contact = factories.contact(world, factories.customer(world))
    _, token = factories.user(world, Role.CUSTOMER_CONTACT, contact_id=contact.id)
    api = client.as_(token)
    assert_problem(api.get("/v1/technicians"), 403, "auth.forbidden")
    assert_problem(api.get(f"/v1/technicians/{technician.id}"), 403, "auth.forbidden")


def test_create_replays_with_the_same_idempotency_key(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    headers = {"Idempotency-Key": "tech-1"}
    first = api.post("/v1/technicians", json={"name": "赵六"}, headers=headers)
    before = count_rows(engine)
    again = api.post("/v1/technicians", json={"name": "赵六"}, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert count_rows(engine) == before
