"""The dispatch board: what the console's map and list draw, for the office only."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator
from sqlalchemy import Engine, update

from api.db import utcnow
from api.location.models import CurrentLocation
from api.workorders.models import WorkOrder
from api.workorders.states import Status
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.core import World

ORDERS = "/v1/board/work-orders"
TECHNICIANS = "/v1/board/technicians"


def board(client: ApiClient, token: str, path: str = ORDERS, **query: Any) -> Any:
    response = client.as_(token).get(path, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def due(engine: Engine, order_id: uuid.UUID, created_ago: timedelta, due_in: timedelta) -> None:
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            update(WorkOrder)
            .where(WorkOrder.id == order_id)
            .values(created_at=now - created_ago, sla_due_at=now + due_in)
        )


def validator(client: ApiClient, schema_name: str) -> OAS30Validator:
    spec = client.get("/openapi.json").get_json()
    page = {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{schema_name}"}},
            "next_cursor": {"type": "string", "nullable": True},
        },
        "additionalProperties": False,
        "components": spec["components"],
    }
    return OAS30Validator(page)


def test_open_orders_come_newest_first_placed_and_coloured_by_their_sla(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    tech = factories.technician(world, team_id=factories.team(world).id)
    customer = factories.customer(world, tier="vip")
    site = factories.site(world, customer)
    leaf = factories.category_path(world)[-1]
    fresh = factories.work_order(world, customer, site, category_id=leaf.id)
    late = factories.advance(
        world, factories.work_order(world, customer, site), Status.ON_SITE, tech
    )
    closing = factories.work_order(world, customer, site)
    done = factories.advance(
        world, factories.work_order(world, customer, site), Status.COMPLETED, tech
    )
    due(engine, fresh.id, timedelta(hours=1), timedelta(hours=3))  # 25 % used
    due(engine, late.id, timedelta(hours=5), timedelta(minutes=-5))
    due(engine, closing.id, timedelta(hours=3), timedelta(minutes=30))  # 86 % used

    body = board(client, world.admin_token)

    items = {item["id"]: item for item in body["items"]}
    assert list(items) == [str(closing.id), str(late.id), str(fresh.id)]  # done is not open
    assert str(done.id) not in items
    assert items[str(fresh.id)]["sla_state"] == "on_track"
    assert items[str(closing.id)]["sla_state"] == "at_risk"
    assert items[str(late.id)]["sla_state"] == "breached"
    assert items[str(late.id)]["assignee"] == {
        "id": str(tech.id), "name": tech.name, "team_id": str(tech.team_id)
    }  # fmt: skip
    assert items[str(fresh.id)]["assignee"] is None
    assert items[str(fresh.id)]["category"] == {
        "id": str(leaf.id), "name": leaf.name, "name_en": leaf.name_en
    }  # fmt: skip
    assert items[str(fresh.id)]["site"]["lat"] == site.lat
    assert items[str(fresh.id)]["customer_tier"] == "vip"
    assert items[str(fresh.id)]["customer"]["name"] == customer.name
    errors = list(validator(client, "BoardOrder").iter_errors(body))
    assert errors == []


def test_filters_narrow_the_board_and_pages_never_repeat(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    team = factories.team(world)
    in_team = factories.technician(world, team_id=team.id)
    other = factories.technician(world)
    hvac, _, leaf = factories.category_path(world)
    plumbing = factories.category_path(world, ["plumb", "pipes", "leak"])[-1]
    a = factories.advance(
        world, factories.work_order(world, category_id=leaf.id), Status.ASSIGNED, in_team
    )
    b = factories.advance(
        world, factories.work_order(world, priority="urgent"), Status.ACCEPTED, other
    )
    c = factories.work_order(world, category_id=plumbing.id)
    token = world.admin_token

    def ids(**query: Any) -> list[str]:
        return [item["id"] for item in board(client, token, **query)["items"]]

    assert ids(team_id=str(team.id)) == [str(a.id)]
    assert ids(category_id=str(hvac.id)) == [str(a.id)]  # the subtree
    assert ids(priority="urgent") == [str(b.id)]
    assert ids(status="new") == [str(c.id)]
    assert ids(unassigned="true") == [str(c.id)]
    assert ids(assignee_id=str(other.id)) == [str(b.id)]
    first = board(client, token, limit=2)
    second = board(client, token, limit=2, cursor=first["next_cursor"])
    assert [i["id"] for i in first["items"] + second["items"]] == [str(c.id), str(b.id), str(a.id)]
    assert second["next_cursor"] is None


def test_technicians_show_where_they_are_and_the_job_they_are_on(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    travelling = factories.technician(world)
    idle = factories.technician(world)
    factories.technician(world, active=False)
    order = factories.advance(world, factories.work_order(world), Status.EN_ROUTE, travelling)
    factories.advance(world, factories.work_order(world), Status.ASSIGNED, idle)  # an offer
    fixed_at = utcnow() - timedelta(minutes=2)
    with engine.begin() as connection:
        connection.execute(
            CurrentLocation.__table__.insert().values(
                tenant_id=world.tenant_id, technician_id=travelling.id, device_id="d",
                fixed_at=fixed_at, lat=31.23, lon=121.47, accuracy_m=8.0, updated_at=fixed_at,
            )
        )  # fmt: skip

    body = board(client, world.admin_token, TECHNICIANS)

    items = {item["id"]: item for item in body["items"]}
    assert set(items) == {str(travelling.id), str(idle.id)}  # not the inactive one
    moving = items[str(travelling.id)]
    assert moving["activity"] == "travelling"
    assert moving["current_job"] == {
        "id": str(order.id),
        "number": order.number,
        "status": "en_route",
    }
    assert moving["position"]["lat"] == 31.23 and moving["position"]["accuracy_m"] == 8.0
    assert items[str(idle.id)] == {
        "id": str(idle.id), "name": idle.name, "team_id": None, "position": None,
        "activity": "available", "current_job": None, "open_orders": 1, "photo_url": None,
    }  # fmt: skip
    assert list(validator(client, "BoardTechnician").iter_errors(body)) == []


def test_only_the_office_sees_the_board_and_only_its_own_tenant(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    mine = factories.work_order(scene.world, scene.customer, scene.site)
    other: World = factories.tenant()
    theirs = factories.work_order(other)
    factories.technician(other)

    for token in (scene.technician_token, scene.contact_token):
        for path in (ORDERS, TECHNICIANS):
            assert_problem(client.as_(token).get(path), 403, "auth.forbidden")
    ids = [item["id"] for item in board(client, scene.dispatcher_token)["items"]]
    assert ids == [str(mine.id)] and str(theirs.id) not in ids
    technicians = board(client, scene.dispatcher_token, TECHNICIANS)["items"]
    assert [t["id"] for t in technicians] == [str(scene.technician.id)]


@pytest.mark.parametrize(
    "query",
    [{"status": "sleeping"}, {"limit": "0"}, {"cursor": "not-a-cursor"}, {"team_id": "x"}],
)
def test_bad_filters_are_refused_with_a_problem(
    client: ApiClient, factories: Factories, query: dict[str, str]
) -> None:
    world = factories.tenant()
    response = client.as_(world.admin_token).get(ORDERS, query_string=query)
    assert response.status_code in (400, 422), response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
