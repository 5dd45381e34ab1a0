"""Teams through the HTTP API: CRUD, supervisors, members, deletion, scoping."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.audit.models import AuditEvent
from api.auth.permissions import Role
from tests.conftest import count_rows
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def _audit_actions(engine: Engine, entity_id: str) -> list[str]:
    with Session(engine) as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_id == uuid.UUID(entity_id))
            .order_by(AuditEvent.id)
        )
        return [event.action for event in events]


def test_dispatcher_creates_reads_updates_lists_and_deletes_a_team(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    dispatcher, token = factories.user(world, Role.DISPATCHER)
    api = client.as_(token)

    created = api.post(
        "/v1/teams",
        json={
            "name": "浦东一组",
            "name_en": "Pudong 1",
            "region": "浦东",
            "supervisor_user_id": str(dispatcher.id),
        },
    )
    assert created.status_code == 201, created.get_json()
    assert created.headers["ETag"] == '"1"'
    team = created.get_json()
    assert team["supervisor_user_id"] == str(dispatcher.id) and team["version"] == 1

    assert api.get(f"/v1/teams/{team['id']}").get_json() == team
    updated = api.patch(f"/v1/teams/{team['id']}", json={"region": "浦东新区"}, etag='"1"')
    assert updated.status_code == 200 and updated.headers["ETag"] == '"2"'
    assert _ids(api.get("/v1/teams?q=pudong")) == [team["id"]]

    assert api.delete(f"/v1/teams/{team['id']}", etag='"2"').status_code == 204
    assert_problem(api.get(f"/v1/teams/{team['id']}"), 404, "team.not_found")
    assert _audit_actions(engine, team["id"]) == ["create", "update", "delete"]


def test_team_names_are_unique_within_a_tenant(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world, other = factories.tenant(), factories.tenant()
    factories.team(world, name="维修一组")
    second = factories.team(world, name="维修二组")
    api = client.as_(world.admin_token)
    before = count_rows(engine)
    assert_problem(api.post("/v1/teams", json={"name": "维修一组"}), 409, "team.name_taken")
    assert_problem(
        api.patch(f"/v1/teams/{second.id}", json={"name": "维修一组"}, etag='"1"'),
        409,
        "team.name_taken",
    )
    assert count_rows(engine) == before
    # Another tenant may use the same name.
    reuse = client.as_(other.admin_token).post("/v1/teams", json={"name": "维修一组"})
    assert reuse.status_code == 201


def test_supervisor_must_be_a_staff_user_of_the_same_tenant(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world, other = factories.tenant(), factories.tenant()
    contact = factories.contact(world, factories.customer(world))
    contact_user, _ = factories.user(world, Role.CUSTOMER_CONTACT, contact_id=contact.id)
    _, technician_user, _ = factories.technician_user(world)
    team = factories.team(world)
    api = client.as_(world.admin_token)

    before = count_rows(engine)
    for bad in (contact_user.id, other.admin.id, uuid.uuid4()):
        body = assert_problem(
            api.post("/v1/teams", json={"name": "x", "supervisor_user_id": str(bad)}),
            422,
            "request.validation_failed",
        )
        assert [(e["field"], e["code"]) for e in body["errors"]] == [
            ("supervisor_user_id", "invalid")
        ]
        assert_problem(
            api.patch(f"/v1/teams/{team.id}", json={"supervisor_user_id": str(bad)}, etag='"1"'),
            422,
            "request.validation_failed",
        )
    assert count_rows(engine) == before

    for good in (technician_user.id, world.admin.id):
        response = api.post(
            "/v1/teams", json={"name": f"team {good}", "supervisor_user_id": str(good)}
        )
        assert response.status_code == 201, response.get_json()


def test_members_are_the_teams_technicians_page_by_page(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    team, other_team = factories.team(world), factories.team(world)
    members = [str(factories.technician(world, team_id=team.id).id) for _ in range(3)]
    factories.technician(world, team_id=other_team.id)
    factories.technician(world)
    api = client.as_(world.admin_token)

    first = api.get(f"/v1/teams/{team.id}/members?limit=2").get_json()
    assert [m["id"] for m in first["items"]] == members[:2]
    assert all(m["team_id"] == str(team.id) for m in first["items"])
    rest = api.get(f"/v1/teams/{team.id}/members?limit=2&cursor={first['next_cursor']}")
    assert _ids(rest) == members[2:]
    assert rest.get_json()["next_cursor"] is None


def test_a_team_with_members_cannot_be_deleted(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    team = factories.team(world)
    member = factories.technician(world, team_id=team.id)
    api = client.as_(world.admin_token)

    before = count_rows(engine)
    assert_problem(api.delete(f"/v1/teams/{team.id}", etag='"1"'), 409, "team.not_empty")
    # A deactivated member still counts: their history names the team.
    api.patch(f"/v1/technicians/{member.id}", json={"active": False}, etag='"1"')
    assert_problem(api.delete(f"/v1/teams/{team.id}", etag='"1"'), 409, "team.not_empty")
    api.patch(f"/v1/technicians/{member.id}", json={"team_id": None}, etag='"2"')
    assert count_rows(engine)["teams"] == before["teams"]

    assert api.delete(f"/v1/teams/{team.id}", etag='"1"').status_code == 204


def test_update_and_delete_need_a_current_if_match(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    team = factories.team(world)
    api = client.as_(world.admin_token)
    url = f"/v1/teams/{team.id}"
    assert_problem(api.patch(url, json={"region": "x"}), 428, "concurrency.if_match_required")
    assert_problem(api.delete(url), 428, "concurrency.if_match_required")
    assert api.patch(url, json={"region": "x"}, etag='"1"').status_code == 200
    assert_problem(
        api.patch(url, json={"region": "y"}, etag='"1"'), 412, "concurrency.stale_version"
    )
    assert_problem(api.delete(url, etag='"1"'), 412, "concurrency.stale_version")
    assert api.get(url).get_json()["region"] == "x"


def test_another_tenants_team_is_not_found(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world, other = factories.tenant(), factories.tenant()
    foreign = factories.team(other)
    factories.technician(other, team_id=foreign.id)
    api = client.as_(world.admin_token)
    url = f"/v1/teams/{foreign.id}"
    before = count_rows(engine)
    assert_problem(api.get(url), 404, "team.not_found")
    assert_problem(api.get(f"{url}/members"), 404, "team.not_found")
    assert_problem(api.patch(url, json={"region": "x"}, etag='"1"'), 404, "team.not_found")
    assert_problem(api.delete(url, etag='"1"'), 404, "team.not_found")
    assert _ids(api.get("/v1/teams")) == []
    assert count_rows(engine) == before


def test_technician_sees_only_their_own_team(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    mine, theirs = factories.team(world), factories.team(world)
    me, _, token = factories.technician_user(world, team_id=mine.id)
    mate = factories.technician(world, team_id=mine.id)
    factories.technician(world, team_id=theirs.id)
    api = client.as_(token)

    assert _ids(api.get("/v1/teams")) == [str(mine.id)]
    assert api.get(f"/v1/teams/{mine.id}").status_code == 200
    assert _ids(api.get(f"/v1/teams/{mine.id}/members")) == [str(me.id), str(mate.id)]
    assert_problem(api.get(f"/v1/teams/{theirs.id}"), 404, "team.not_found")
    assert_problem(api.get(f"/v1/teams/{theirs.id}/members"), 404, "team.not_found")
    assert_problem(api.post("/v1/teams", json={"name": "x"}), 403, "auth.forbidden")
    assert_problem(
        api.patch(f"/v1/teams/{mine.id}", json={"name": "x"}, etag='"1"'), 403, "auth.forbidden"
    )


def test_customer_contacts_may_not_read_teams(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    team = factories.team(world)
    contact = factories.contact(world, factories.customer(world))
    _, token = factories.user(world, Role.CUSTOMER_CONTACT, contact_id=contact.id)
    api = client.as_(token)
    assert_problem(api.get("/v1/teams"), 403, "auth.forbidden")
    assert_problem(api.get(f"/v1/teams/{team.id}/members"), 403, "auth.forbidden")
