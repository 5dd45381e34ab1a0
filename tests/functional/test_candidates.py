"""Who could take a work order: nearest qualified technicians, explained."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, delete, update
from werkzeug.serving import make_server

from api.db import utcnow
from api.location.models import CurrentLocation
from api.technicians.models import Technician
from dispatch.spatial import index_for
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.core import World
from tests.support.positions import ALWAYS, LAT, LON, Tracked, fix

NIGHTS_ONLY = {
    day: [["02:00", "02:01"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}


SHANGHAI = ZoneInfo("Asia/Shanghai")


def daily(first: str, last: str) -> dict[str, list[list[str]]]:
    return {day: [[first, last]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def tomorrow_in_shanghai() -> datetime:
    day = utcnow().astimezone(SHANGHAI).date() + timedelta(days=1)
    return datetime.combine(day, time(0), SHANGHAI)


def east(metres: float) -> float:
    return LON + metres / 95_000  # ~95 km per degree of longitude in Shanghai


def hire(factories: Factories, world: World, home_east_m: float | None, **data: Any) -> Technician:
    fields: dict[str, Any] = {
        "working_hours": ALWAYS,
        "skills": [{"skill": "hvac", "level": 3}],
    }
    if home_east_m is not None:
        fields["home_base"] = {"address": "家", "position": {"lat": LAT, "lon": east(home_east_m)}}
    fields.update(data)
    return factories.technician(world, **fields)


def place(
    engine: Engine, world: World, tech: Technician, east_m: float, minutes_ago: float
) -> None:
    """Their newest fix (written as the location upsert would)."""
    at = utcnow() - timedelta(minutes=minutes_ago)
    with engine.begin() as connection:
        connection.execute(delete(CurrentLocation).where(CurrentLocation.technician_id == tech.id))
        connection.execute(
            CurrentLocation.__table__.insert().values(
                tenant_id=world.tenant_id, technician_id=tech.id, device_id="d",
                fixed_at=at, lat=LAT, lon=east(east_m), accuracy_m=5.0, updated_at=at,
            )
        )  # fmt: skip


def candidates(client: ApiClient, world: World, order_id: uuid.UUID, **query: Any) -> Any:
    response = client.as_(world.admin_token).get(
        f"/v1/work-orders/{order_id}/candidates", query_string=query
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_the_nearest_qualified_technician_comes_first_and_every_exclusion_says_why(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    near = hire(factories, world, 50_000)
    far = hire(factories, world, 50_000)
    place(engine, world, near, 800, minutes_ago=5)
    place(engine, world, far, 6_000, minutes_ago=5)
    stale = hire(factories, world, 2_000)  # an hour-old fix 300 m away: home base counts
    place(engine, world, stale, 300, minutes_ago=60)
    novice = hire(factories, world, 100, skills=[{"skill": "hvac", "level": 1}])
    plumber = hire(factories, world, 200, skills=[{"skill": "plumbing", "level": 5}])
    asleep = hire(factories, world, 150, working_hours=NIGHTS_ONLY)
    retired = hire(factories, world, 120, active=False)
    expired = hire(
        factories, world, 250,
        certifications=[{"name": "制冷证", "number": "1", "expires_on": "2020-01-01"}],
    )  # fmt: skip
    order = factories.work_order(world)

    body = candidates(client, world, order.id, skill="hvac", min_level=2, at=utcnow().isoformat())

    ranked = [c["technician_id"] for c in body["candidates"]]
    assert ranked == [str(expired.id), str(near.id), str(stale.id), str(far.id)]
    positions = [c["position"] for c in body["candidates"]]
    assert positions == ["home", "fix", "home", "fix"]
    first = body["candidates"][1]
    assert first["distance_m"] == pytest.approx(800, rel=0.05)
    assert first["score"] == pytest.approx(100 + sum(first["parts"].values()), abs=0.05)
    assert first["parts"]["travel"] < 0
    excluded = {e["technician_id"]: e["filter"] for e in body["excluded"]}
    assert excluded == {
        str(novice.id): "skill_level_too_low",
        str(plumber.id): "skill_missing",
        str(asleep.id): "off_shift",
        str(retired.id): "inactive",
    }  # the expired certification mattered to no one: none was asked for

    certified = candidates(client, world, order.id, skill="hvac", certification="制冷证")
    assert {e["technician_id"]: e["filter"] for e in certified["excluded"]}[
        str(expired.id)
    ] == "certification_expired"
    assert {e["technician_id"]: e["filter"] for e in certified["excluded"]}[
        str(near.id)
    ] == "certification_missing"


def test_workload_lowers_the_score_and_a_full_technician_is_excluded(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    world = factories.tenant()
    busy = hire(factories, world, 100)
    idle = hire(factories, world, 400)
    site_order = factories.work_order(world)
    for _ in range(2):
        factories.transition(world, factories.work_order(world), "assign", assignee_id=busy.id)

    body = candidates(client, world, site_order.id)
    parts = {c["technician_id"]: c for c in body["candidates"]}
    assert parts[str(busy.id)]["parts"]["workload"] == -10.0
    assert parts[str(busy.id)]["open_orders"] == 2
    assert body["candidates"][0]["technician_id"] == str(idle.id)

    full = candidates(client, world, site_order.id, capacity=2)
    assert {e["technician_id"]: e["filter"] for e in full["excluded"]} == {
        str(busy.id): "at_capacity"
    }


def test_the_technician_who_last_serviced_the_asset_is_preferred(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    customer = factories.customer(world, tier="vip")
    site = factories.site(world, customer)
    asset = factories.asset(world, site)
    usual = hire(factories, world, 900, skills=[{"skill": "hvac", "level": 2}])
    other = hire(factories, world, 600, skills=[{"skill": "hvac", "level": 2}])
    earlier = factories.work_order(world, customer, site, asset_ids=[asset.id])
    from api.workorders.states import Status

    factories.advance(world, earlier, Status.COMPLETED, usual)
    order = factories.work_order(world, customer, site, asset_ids=[asset.id])

    body = candidates(client, world, order.id, skill="hvac", min_level=1)
    by_id = {c["technician_id"]: c for c in body["candidates"]}
    assert by_id[str(usual.id)]["parts"]["continuity"] == 15.0
    assert by_id[str(other.id)]["parts"]["continuity"] == 0.0
    assert by_id[str(usual.id)]["parts"]["tier"] == 5.0  # VIP: a level above the one asked
    assert body["candidates"][0]["technician_id"] == str(usual.id)


def test_a_fix_sent_by_the_device_moves_the_technician_in_the_index(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    tracked = Tracked(client, factories, engine, working_hours=ALWAYS)
    with engine.begin() as connection:  # home base far away: only the fix can place them near
        connection.execute(
            update(Technician)
            .where(Technician.id == tracked.technician.id)
            .values(home_lat=LAT + 1, home_lon=LON)
        )
    tracked.send(fix(11, 200))
    tracked.send(fix(1, 3_000))  # the upsert moves them ~3 km east
    with engine.connect() as connection:
        nearest = index_for(engine.dialect.name).nearest(
            connection, tracked.world.tenant_id, LAT, east(3_000),
            fresh_since=utcnow() - timedelta(minutes=30), limit=1,
        )  # fmt: skip
        assert [(n.technician_id, n.source) for n in nearest] == [(tracked.technician.id, "fix")]
        assert nearest[0].approx_m < 50
        stale = index_for(engine.dialect.name).nearest(
            connection, tracked.world.tenant_id, LAT, LON,
            fresh_since=utcnow() + timedelta(minutes=1), limit=1,
        )  # fmt: skip
        assert [(n.technician_id, n.source) for n in stale] == [(tracked.technician.id, "home")]
        assert stale[0].approx_m == pytest.approx(111_195, rel=0.01)


def test_candidates_are_for_the_office_and_need_a_placed_site(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    customer = factories.customer(world)
    unplaced = factories.site(world, customer, position=None)
    order = factories.work_order(world, customer, unplaced)
    response = client.as_(world.admin_token).get(f"/v1/work-orders/{order.id}/candidates")
    assert_problem(response, 409, "dispatch.site_not_placed")
    _, _, token = factories.technician_user(world)
    response = client.as_(token).get(f"/v1/work-orders/{order.id}/candidates")
    assert response.status_code == 403


def test_the_nearest_qualified_skips_the_unskilled_in_the_index_itself(
    factories: Factories, uow_factory: Any
) -> None:
    from api.dispatching import services
    from dispatch import candidates as rules

    world = factories.tenant()
    for east_m in (100, 200, 300, 400, 500, 600, 700, 800, 900):
        hire(factories, world, east_m, skills=[{"skill": "plumbing", "level": 5}])
    hire(factories, world, 950, skills=[{"skill": "hvac", "level": 4}], active=False)
    wanted = hire(factories, world, 1_000, skills=[{"skill": "hvac", "level": 4}])
    now = utcnow()
    job = rules.Job(LAT, LON, at=now, skills={"hvac": 3})
    with uow_factory() as uow:
        best = services.nearest_qualified(
            uow.session, world.tenant_id, job, now=now, fresh_since=now, first_shortlist=1
        )
        nearest = index_for(uow.session.get_bind().dialect.name).nearest(
            uow.session.connection(), world.tenant_id, LAT, LON,
            fresh_since=now, limit=1, skill=("hvac", 3),
        )  # fmt: skip
    assert best is not None and best.technician.id == wanted.id
    assert best.distance_m == pytest.approx(1_000, rel=0.05)
    assert [n.technician_id for n in nearest] == [wanted.id]  # one look, nine skipped


def test_with_a_routing_engine_the_short_list_is_ranked_by_time_on_the_road(
    client: ApiClient, factories: Factories, engine: Engine, app: Any
) -> None:
    from dispatch.routing import OsrmRouter
    from tests.unit.dispatch.test_routing import FakeOsrm

    fake = FakeOsrm()
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    world = factories.tenant()
    near = hire(factories, world, 500)  # across the river from the site: a long drive
    far = hire(factories, world, 2_000)
    hire(factories, world, 300, skills=[{"skill": "plumbing", "level": 5}])  # excluded
    order = factories.work_order(world)
    fake.table = [1_800.0, 240.0]  # near (1st by straight line) 30 min, far 4 min
    app.extensions["fieldline_router"] = OsrmRouter(f"http://127.0.0.1:{server.server_port}")
    try:
        body = candidates(client, world, order.id, skill="hvac")
    finally:
        app.extensions.pop("fieldline_router").close()
        server.shutdown()

    ranked = [
        (c["technician_id"], c["travel_minutes"], c["travel_source"]) for c in body["candidates"]
    ]
    assert ranked == [(str(far.id), 4.0, "osrm"), (str(near.id), 30.0, "osrm")]
    tables = [seen for seen in fake.seen if seen.startswith("/table/")]
    assert len(tables) == 1 and tables[0].count(";") == 2  # one request, the qualified two


def test_a_skill_change_is_seen_by_the_next_ranking(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    tech = hire(factories, world, 300)
    order = factories.work_order(world, required_skills=[{"skill": "hvac", "level": 3}])
    assert [c["technician_id"] for c in candidates(client, world, order.id)["candidates"]] == [
        str(tech.id)
    ]
    api = client.as_(world.admin_token)
    current = api.get(f"/v1/technicians/{tech.id}")
    changed = api.patch(
        f"/v1/technicians/{tech.id}",
        etag=current.headers["ETag"],
        json={"skills": [{"skill": "hvac", "level": 2}, {"skill": "electrical", "level": 4}]},
    )
    assert changed.status_code == 200, changed.get_json()

    body = candidates(client, world, order.id)

    assert body["candidates"] == []
    assert [(e["technician_id"], e["filter"]) for e in body["excluded"]] == [
        (str(tech.id), "skill_level_too_low")
    ]


def test_the_nearest_qualified_places_by_fresh_fix_else_home_and_stays_in_its_tenant(
    factories: Factories, engine: Engine, uow_factory: Any
) -> None:
    from api.dispatching import services
    from dispatch import candidates as rules

    world, other = factories.tenant(), factories.tenant()
    hire(factories, other, 10)  # nearest of all, but another tenant's
    moved = hire(factories, world, 100)  # home next door, but a fresh fix 5 km away
    place(engine, world, moved, 5_000, minutes_ago=5)
    stale = hire(factories, world, 3_000)  # an hour-old fix 200 m away: home counts
    place(engine, world, stale, 200, minutes_ago=60)
    hire(factories, world, 150, skills=[{"skill": "hvac", "level": 2}])  # level too low
    hire(factories, world, 250, working_hours=NIGHTS_ONLY)  # off shift: passed over
    now = utcnow()
    job = rules.Job(LAT, LON, at=now, skills={"hvac": 3})
    with uow_factory() as uow:
        best = services.nearest_qualified(
            uow.session, world.tenant_id, job, now=now, fresh_since=now - timedelta(minutes=30)
        )
        farther = services.nearest_qualified(
            uow.session, world.tenant_id, replace(job, lon=east(4_900)), now=now,
            fresh_since=now - timedelta(minutes=30),
        )  # fmt: skip
    assert best is not None and best.technician.id == stale.id
    assert best.technician.position_source == "home"
    assert best.distance_m == pytest.approx(3_000, rel=0.05)
    assert best.parts["travel"] < 0 and best.score < 100
    assert farther is not None and farther.technician.id == moved.id
    assert farther.technician.position_source == "fix"


def test_in_a_requested_window_a_technician_qualifies_with_time_on_shift_for_the_job(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    midway = hire(factories, world, 100, working_hours=daily("10:00", "18:00"))
    late = hire(factories, world, 200, working_hours=daily("11:30", "20:00"))
    evenings = hire(factories, world, 300, working_hours=daily("20:00", "23:00"))
    day = tomorrow_in_shanghai()
    start, end = day + timedelta(hours=9), day + timedelta(hours=12)  # 09:00-12:00 there
    order = factories.work_order(world, requested_start=start, requested_end=end)

    body = candidates(client, world, order.id)

    # An hour's work (no scheduled length): 10:00-12:00 leaves two, 11:30-12:00 half of one.
    assert [c["technician_id"] for c in body["candidates"]] == [str(midway.id)]
    window = f"{start.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}/{end.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
    assert {e["technician_id"]: (e["filter"], e["detail"]) for e in body["excluded"]} == {
        str(late.id): (
            "off_shift",
            f"on shift for at most 30 min at a stretch in the window {window},"
            " the job needs 60 min",
        ),
        str(evenings.id): ("off_shift", f"not on shift at any time in the window {window}"),
    }

    quick = factories.work_order(
        world, requested_start=start, requested_end=end,
        scheduled_start=start, scheduled_end=start + timedelta(minutes=20),
    )  # fmt: skip
    ranked = [c["technician_id"] for c in candidates(client, world, quick.id)["candidates"]]
    assert ranked == [str(midway.id), str(late.id)]  # 20 minutes fit in the last half hour

    # A start the dispatcher names is checked at that instant: nobody works at 09:00.
    at_nine = candidates(client, world, order.id, at=start.isoformat())
    assert at_nine["candidates"] == []
    assert {e["filter"] for e in at_nine["excluded"]} == {"off_shift"}


def test_an_urgent_sla_weighs_travel_double_and_a_late_arrival_costs_points(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    policy = api.post(
        "/v1/sla-policies", json={"name": "紧急", "priority": "urgent", "resolution_minutes": 30}
    )
    assert policy.status_code == 201, policy.get_json()
    busy_near = hire(factories, world, 500)
    for _ in range(2):
        factories.transition(world, factories.work_order(world), "assign", assignee_id=busy_near.id)
    idle_far = hire(factories, world, 2_800)
    too_far = hire(factories, world, 20_000)  # over an hour's drive
    customer = factories.customer(world)
    site = factories.site(world, customer)
    calm = factories.work_order(world, customer, site, priority="medium")  # no SLA applies
    urgent = factories.work_order(world, customer, site, priority="urgent")  # due in 30 min

    relaxed = candidates(client, world, calm.id)["candidates"]
    pressed = candidates(client, world, urgent.id)["candidates"]

    # Calm: 7.7 more minutes of driving cost less than two open orders (10 points).
    assert [c["technician_id"] for c in relaxed] == [
        str(idle_far.id), str(busy_near.id), str(too_far.id)
    ]  # fmt: skip
    # Urgent: every minute counts twice, so the nearer technician comes first.
    assert [c["technician_id"] for c in pressed] == [
        str(busy_near.id), str(idle_far.id), str(too_far.id)
    ]  # fmt: skip
    before = {c["technician_id"]: c for c in relaxed}
    for candidate in pressed:
        earlier = before[candidate["technician_id"]]
        doubled = 2 * earlier["parts"]["travel"]
        assert candidate["parts"]["travel"] == pytest.approx(doubled, abs=0.02)
        assert candidate["score"] == pytest.approx(100 + sum(candidate["parts"].values()), abs=0.05)
        assert earlier["parts"]["sla"] == 0.0
    sla = {c["technician_id"]: c["parts"]["sla"] for c in pressed}
    assert sla == {str(busy_near.id): 0.0, str(idle_far.id): 0.0, str(too_far.id): -40.0}
