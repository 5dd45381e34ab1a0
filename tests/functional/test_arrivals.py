"""Geofenced arrival: the technician's fixes say when they reached the site and left."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator
from sqlalchemy import Engine, update

from api.db import UnitOfWorkFactory
from api.outbox.registry import HANDLERS
from api.outbox.worker import run_once
from api.tenants.models import Tenant
from api.workorders.states import Status
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.positions import ALWAYS, Tracked, fix


class Trip:
    """A tracked technician en route to an order at the default site (the tracked origin)."""

    def __init__(
        self, client: ApiClient, factories: Factories, engine: Engine, mode: str = "suggest"
    ) -> None:
        self.tracked = Tracked(client, factories, engine, working_hours=ALWAYS)
        world = self.tracked.world
        with engine.begin() as connection:
            connection.execute(
                update(Tenant).where(Tenant.id == world.tenant_id).values(arrival_mode=mode)
            )
        self.customer = factories.customer(world)
        order = factories.work_order(world, self.customer)
        factories.advance(world, order, Status.EN_ROUTE, self.tracked.technician)
        factories.backdate(order.id, timedelta(minutes=30))
        self.order_id = order.id

    def visit(self) -> Any:
        return self.tracked.admin.get(f"/v1/work-orders/{self.order_id}/visit")

    def order(self) -> dict[str, Any]:
        body: dict[str, Any] = self.tracked.admin.get(f"/v1/work-orders/{self.order_id}").get_json()
        return body


def approach(minutes_ago: float) -> list[dict[str, Any]]:
    """Driving in from 2 km east, then parked at the door for 4 minutes (a fix every 30 s)."""
    drive = [fix(minutes_ago + 3 - step * 0.5, 2000 - step * 400) for step in range(5)]
    parked = [fix(minutes_ago - step * 0.5, 20) for step in range(9)]
    return drive + parked


def test_an_arrival_is_suggested_to_the_technician_by_default(
    client: ApiClient, factories: Factories, engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    trip = Trip(client, factories, engine)
    trip.tracked.send(*approach(10))

    visit = trip.visit().get_json()
    assert visit["arrival"] == "suggested" and visit["left_at"] is None
    assert trip.order()["status"] == "en_route"  # the technician confirms on the device
    while run_once(uow_factory, HANDLERS):
        pass
    notes = trip.tracked.api.get("/v1/notifications").get_json()["items"]
    suggested = [note for note in notes if note["kind"] == "work_order.arrival_suggested"]
    assert len(suggested) == 1
    assert suggested[0]["data"]["work_order_id"] == str(trip.order_id)


def test_in_auto_mode_the_order_goes_on_site_dated_at_the_arrival(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    trip = Trip(client, factories, engine, mode="auto")
    fixes = approach(10)
    trip.tracked.send(*fixes)

    order = trip.order()
    assert order["status"] == "on_site"
    history = trip.tracked.admin.get(f"/v1/work-orders/{trip.order_id}/history").get_json()
    arrival = [step for step in history["items"] if step["action"] == "arrive"]
    assert [step["occurred_at"][:19] for step in arrival] == [fixes[5]["fixed_at"][:19]]
    visit = trip.visit().get_json()
    assert visit["arrival"] == "recorded"
    # The step the geofence recorded shows what decided it, as the visit does.
    assert arrival[0]["arrival_evidence"] == visit["arrival_evidence"] is not None


def test_the_history_shows_the_geofence_evidence_on_the_arrival_it_backs(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    trip = Trip(client, factories, engine)
    trip.tracked.send(*approach(20))

    def history() -> list[dict[str, Any]]:
        response = trip.tracked.admin.get(f"/v1/work-orders/{trip.order_id}/history")
        assert response.status_code == 200
        spec = client.get("/openapi.json").get_json()
        step = {"$ref": "#/components/schemas/HistoryStep", "components": spec["components"]}
        items: list[dict[str, Any]] = response.get_json()["items"]
        for item in items:
            OAS30Validator(step).validate(item)
        return items

    # Suggested, not yet confirmed: no step answers the visit.
    assert all(s["arrival_evidence"] is None and s["departure_evidence"] is None
               for s in history())  # fmt: skip
    factories.transition(trip.tracked.world, trip.order_id, "arrive")
    visit = trip.visit().get_json()
    steps = history()
    (arrive,) = [s for s in steps if s["action"] == "arrive"]
    assert arrive["arrival_evidence"] == visit["arrival_evidence"]
    assert arrive["arrival_evidence"]["fixes"] >= 1 and arrive["departure_evidence"] is None
    assert all(s["arrival_evidence"] is None for s in steps if s["action"] != "arrive")

    gone = [fix(4 - step * 0.5, 500 + step * 100) for step in range(8)]
    trip.tracked.send(*gone)
    (arrive,) = [s for s in history() if s["action"] == "arrive"]
    departure = trip.visit().get_json()["departure_evidence"]
    assert arrive["departure_evidence"] == departure
    assert departure["first"]["fixed_at"][:19] == gone[0]["fixed_at"][:19]

    # The customer reads the same evidence, in the history and /visit, without
    # where the technician was: when, how far from their site, how many fixes.
    contact = client.as_(factories.customer_login(trip.tracked.world, trip.customer)[1])
    mine = contact.get(f"/v1/work-orders/{trip.order_id}/history").get_json()["items"]
    (arrive_seen,) = [s for s in mine if s["action"] == "arrive"]
    their_visit = contact.get(f"/v1/work-orders/{trip.order_id}/visit").get_json()
    staff_visit = trip.visit().get_json()
    for name in ("arrival_evidence", "departure_evidence"):
        for seen in (arrive_seen[name], their_visit[name]):
            assert seen["fixes"] == staff_visit[name]["fixes"]
            for end in ("first", "last"):
                assert seen[end] == {
                    "fixed_at": staff_visit[name][end]["fixed_at"],
                    "distance_m": staff_visit[name][end]["distance_m"],
                }
    assert their_visit["arrived_at"] == staff_visit["arrived_at"]


def test_driving_past_the_site_is_no_arrival(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    trip = Trip(client, factories, engine, mode="auto")
    past = [fix(10 - step * 0.25, -1000 + step * 250) for step in range(9)]  # 15 m/s, no stop
    trip.tracked.send(*past)
    assert_problem(trip.visit(), 404, "location.no_visit")
    assert trip.order()["status"] == "en_route"


def test_jitter_at_the_fence_never_makes_a_departure_but_leaving_does(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    trip = Trip(client, factories, engine, mode="auto")
    trip.tracked.send(*approach(20))
    # Inside, the fix wanders across the 100 m edge (90 m ↔ 160 m) for ten minutes.
    jitter = [fix(15 - step * 0.5, 90 if step % 2 else 160) for step in range(20)]
    trip.tracked.send(*jitter)
    assert trip.visit().get_json()["left_at"] is None
    # Then really gone: 500 m away and further, for four minutes.
    gone = [fix(4 - step * 0.5, 500 + step * 100) for step in range(8)]
    trip.tracked.send(*gone)
    assert trip.visit().get_json()["left_at"][:19] == gone[0]["fixed_at"][:19]


def test_a_late_batch_never_moves_a_visit_back(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    trip = Trip(client, factories, engine)
    trip.tracked.send(*approach(8))
    first = trip.visit().get_json()
    # Older fixes of the same trip arrive late, far from the site: nothing changes.
    trip.tracked.send(*[fix(25 - step, 3000 - step * 200) for step in range(5)])
    assert trip.visit().get_json() == first


@pytest.mark.parametrize("who", ["stranger", "contact_of_another_customer"])
def test_a_visit_is_read_only_by_who_may_read_the_order(
    client: ApiClient, factories: Factories, engine: Engine, who: str
) -> None:
    trip = Trip(client, factories, engine)
    trip.tracked.send(*approach(10))
    if who == "stranger":
        token = factories.tenant().admin_token
    else:
        other = factories.customer(trip.tracked.world)
        token = factories.customer_login(trip.tracked.world, other)[1]
    response = client.as_(token).get(f"/v1/work-orders/{trip.order_id}/visit")
    assert response.status_code == 404


def test_the_customer_sees_the_technician_only_while_they_are_on_the_way(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    trip = Trip(client, factories, engine, mode="auto")
    _, contact_token = factories.customer_login(trip.tracked.world, trip.customer)
    customer = client.as_(contact_token)
    path = f"/v1/work-orders/{trip.order_id}/technician-position"

    assert_problem(customer.get(path), 404, "location.no_position")  # nothing since setting off
    trip.tracked.send(fix(3, 1500))
    seen = customer.get(path).get_json()
    assert seen["lon"] == pytest.approx(fix(3, 1500)["lon"])
    trip.tracked.send(*approach(2))  # arrives: the order goes on site
    assert trip.order()["status"] == "on_site"
    assert_problem(customer.get(path), 409, "location.not_en_route")


def test_the_admin_switches_arrivals_to_auto_and_bad_settings_are_refused(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    admin = client.as_(world.admin_token)
    assert admin.get("/v1/tenant/arrival-settings").get_json() == {
        "arrival_mode": "suggest",
        "geofence_radius_m": 100,
    }
    changed = admin.request(
        "PUT",
        "/v1/tenant/arrival-settings",
        json={"arrival_mode": "auto", "geofence_radius_m": 150},
    )
    assert changed.status_code == 200
    assert admin.get("/v1/tenant/arrival-settings").get_json()["arrival_mode"] == "auto"
    bad = admin.request(
        "PUT",
        "/v1/tenant/arrival-settings",
        json={"arrival_mode": "always", "geofence_radius_m": 5},
    )
    assert_problem(bad, 422, "request.validation_failed")
