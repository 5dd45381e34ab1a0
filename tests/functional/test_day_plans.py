"""Day plans: optimise a tenant's day from its data, then apply the plan in one call."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from api.db import utcnow
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.core import World

DAY = {
    day: [["08:00", "12:00"], ["13:00", "18:00"]]
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}
TOMORROW = (utcnow() + timedelta(days=1)).date()
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the tenant's zone


def at(hour: int, minute: int = 0) -> datetime:
    """``TOMORROW`` at a time in the tenant's zone."""
    return datetime.combine(TOMORROW, time(hour, minute), SHANGHAI)


def moment(wire: str) -> datetime:
    return datetime.fromisoformat(wire.replace("Z", "+00:00"))


def city(factories: Factories) -> tuple[World, list[Any], list[Any]]:
    """Two technicians at either end of town and six orders, three near each."""
    world = factories.tenant()
    west = factories.technician(
        world, working_hours=DAY, home_base={"position": {"lat": 31.23, "lon": 121.40}}
    )
    east = factories.technician(
        world, working_hours=DAY, home_base={"position": {"lat": 31.23, "lon": 121.56}}
    )
    customer = factories.customer(world)
    orders = []
    for i, lon in enumerate([121.41, 121.42, 121.43, 121.53, 121.54, 121.55]):
        site = factories.site(world, customer, position={"lat": 31.23 + i * 0.001, "lon": lon})
        orders.append(factories.work_order(world, customer, site))
    return world, [west, east], orders


def plan(api: ApiClient, day: date = TOMORROW, **extra: Any) -> dict[str, Any]:
    response = api.post("/v1/day-plans", {"date": day.isoformat(), "time_limit_s": 1, **extra})
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def test_a_day_is_planned_near_first_and_applied_in_one_call(
    client: ApiClient, factories: Factories
) -> None:
    world, (west, east), orders = city(factories)
    admin = client.as_(world.admin_token)
    body = plan(admin)

    routes = {route["technician_id"]: route["visits"] for route in body["routes"]}
    west_ids = {visit["work_order_id"] for visit in routes[str(west.id)]}
    assert west_ids == {str(order.id) for order in orders[:3]}
    assert body["unassigned"] == [] and body["travel_s"] <= body["greedy_travel_s"]
    for visits in routes.values():
        for visit in visits:  # nothing over lunch
            start, end = visit["arrive_at"][11:16], visit["scheduled_end"][11:16]
            assert not ("04:00" < end <= "05:00" or "04:00" <= start < "05:00")  # 12-13 Shanghai

    visits = [
        {
            "work_order_id": visit["work_order_id"],
            "technician_id": technician,
            "scheduled_start": visit["arrive_at"],
            "scheduled_end": visit["scheduled_end"],
        }
        for technician, route in routes.items()
        for visit in route
    ]
    applied = admin.post("/v1/day-plans/apply", {"visits": visits})
    assert applied.status_code == 200, applied.get_data(as_text=True)
    for order in orders:
        read = admin.get(f"/v1/work-orders/{order.id}").get_json()
        assert read["status"] == "assigned"
        assert read["assignee_id"] in {str(west.id), str(east.id)}
        assert read["scheduled_start"] is not None


def test_applying_is_all_or_nothing(client: ApiClient, factories: Factories) -> None:
    world, (west, _), orders = city(factories)
    admin = client.as_(world.admin_token)
    start = (utcnow() + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    end = (utcnow() + timedelta(days=1, hours=1)).isoformat().replace("+00:00", "Z")
    good = {
        "work_order_id": str(orders[0].id),
        "technician_id": str(west.id),
        "scheduled_start": start,
        "scheduled_end": end,
    }
    stale = {**good, "work_order_id": str(orders[1].id), "version": 99}
    response = admin.post("/v1/day-plans/apply", {"visits": [good, stale]})
    assert response.status_code == 412
    assert admin.get(f"/v1/work-orders/{orders[0].id}").get_json()["status"] == "new"


def test_left_out_orders_and_idle_technicians_say_why(
    client: ApiClient, factories: Factories
) -> None:
    world, _, _ = city(factories)
    factories.technician(world)  # no hours, no home
    customer = factories.customer(world)
    nowhere = factories.site(world, customer, position=None)
    lost = factories.work_order(world, customer, nowhere)
    body = plan(client.as_(world.admin_token))
    reasons = {item["id"]: item["reason"] for item in body["unassigned"]}
    assert reasons[str(lost.id)] == "the site has no position"
    assert [item["reason"] for item in body["idle"]] == [
        "no position: no fresh fix and no home base"
    ]


def test_only_the_office_plans(client: ApiClient, factories: Factories) -> None:
    world, _, _ = city(factories)
    _, _, technician_token = factories.technician_user(world)
    response = client.as_(technician_token).post("/v1/day-plans", {"date": TOMORROW.isoformat()})
    assert response.status_code == 403
    assert_problem(
        client.as_(world.admin_token).post("/v1/day-plans", {"date": "2026-13-01"}),
        422,
        "request.validation_failed",
    )


def test_a_pinned_visit_keeps_its_technician_and_time(
    client: ApiClient, factories: Factories
) -> None:
    world, (west, east), _ = city(factories)
    customer = factories.customer(world)
    site = factories.site(world, customer, position={"lat": 31.231, "lon": 121.55})  # far east
    order = factories.work_order(
        world, customer, site, scheduled_start=at(10), scheduled_end=at(10, 45)
    )
    factories.transition(world, order, "assign", assignee_id=west.id)
    admin = client.as_(world.admin_token)

    def visits(body: dict[str, Any]) -> dict[str, tuple[str, datetime, datetime]]:
        return {
            visit["work_order_id"]: (
                route["technician_id"],
                moment(visit["arrive_at"]),
                moment(visit["scheduled_end"]),
            )
            for route in body["routes"]
            for visit in route["visits"]
        }

    free = visits(plan(admin))
    pinned = visits(plan(admin, pinned=[str(order.id)]))

    assert free[str(order.id)][0] == str(east.id)  # unpinned, the one next door goes
    assert pinned[str(order.id)] == (str(west.id), at(10), at(10, 45))


def test_a_pin_that_cannot_fit_its_technicians_shift_refuses_the_plan(
    client: ApiClient, factories: Factories
) -> None:
    world, (west, _), _ = city(factories)
    evening = factories.work_order(
        world, scheduled_start=at(20), scheduled_end=at(21)
    )  # the shift ends at 18:00
    factories.transition(world, evening, "assign", assignee_id=west.id)
    admin = client.as_(world.admin_token)

    response = admin.post(
        "/v1/day-plans",
        {"date": TOMORROW.isoformat(), "time_limit_s": 1, "pinned": [str(evening.id)]},
    )

    assert_problem(response, 409, "dayplan.pins_do_not_fit")
    unpinned = plan(admin)  # the same day without the pin: the order is simply placed
    assert str(evening.id) in {
        visit["work_order_id"] for route in unpinned["routes"] for visit in route["visits"]
    }
