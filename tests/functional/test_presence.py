"""Was the technician there? Fixes near a point, a job's presence at its site, and the
evidence behind a geofenced arrival: what a dispatcher reads before trusting a time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator
from sqlalchemy import Engine

from api.db import UnitOfWorkFactory, utcnow
from api.location import presence as presence_service
from api.outbox.registry import HANDLERS
from api.outbox.worker import run_once
from api.workorders.states import Status
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.positions import ALWAYS, LAT, LON, Tracked, fix

NEAR = f"{LAT},{LON}"


def parked(minutes_ago: float, east_m: float, count: int = 10) -> list[dict[str, Any]]:
    """Standing ``east_m`` east of the site, a fix every 30 s."""
    return [fix(minutes_ago - step * 0.5, east_m) for step in range(count)]


class Job:
    """A tracked technician on the way to an order at the tracked origin."""

    def __init__(self, client: ApiClient, factories: Factories, engine: Engine) -> None:
        self.tracked = Tracked(client, factories, engine, working_hours=ALWAYS)
        world = self.tracked.world
        self.customer = factories.customer(world)
        order = factories.work_order(world, self.customer)
        factories.advance(world, order, Status.EN_ROUTE, self.tracked.technician)
        factories.backdate(order.id, timedelta(minutes=30))
        self.order_id = order.id
        self.admin = self.tracked.admin

    def presence(self, **query: Any) -> Any:
        return self.admin.get(f"/v1/work-orders/{self.order_id}/presence", query_string=query)

    def fixes(self, api: ApiClient | None = None, **query: Any) -> Any:
        path = f"/v1/technicians/{self.tracked.technician.id}/fixes"
        return (api or self.admin).get(path, query_string={"near": NEAR, **query})


@pytest.fixture
def job(client: ApiClient, factories: Factories, engine: Engine) -> Job:
    return Job(client, factories, engine)


def validator(client: ApiClient, schema: dict[str, Any]) -> OAS30Validator:
    spec = client.get("/openapi.json").get_json()
    return OAS30Validator({**schema, "components": spec["components"]})


def test_parked_50_m_away_is_near_the_site_and_500_m_away_is_not(
    job: Job, client: ApiClient
) -> None:
    close, far = parked(20, 50), parked(10, 500)
    job.tracked.send(*close, *far)

    body = job.fixes(radius=100).get_json()
    assert [item["fixed_at"][:19] for item in body["items"]] == [f["fixed_at"][:19] for f in close]
    assert {round(item["distance_m"], -1) for item in body["items"]} == {50}
    assert body["items"][0]["accuracy_m"] == 8.0 and body["next_cursor"] is None
    assert len(job.fixes(radius=1000).get_json()["items"]) == 20

    presence = job.presence().get_json()
    assert presence["fixes_inside"] == 10
    assert presence["seconds_inside"] == pytest.approx(270, abs=1)  # 10 fixes, 30 s apart
    assert presence["first_inside"]["fixed_at"][:19] == close[0]["fixed_at"][:19]
    assert presence["last_inside"]["fixed_at"][:19] == close[-1]["fixed_at"][:19]
    assert len(presence["stays"]) == 1
    validator(client, {"$ref": "#/components/schemas/Presence"}).validate(presence)


def test_parked_500_m_away_the_whole_job_was_never_there(job: Job) -> None:
    job.tracked.send(*parked(10, 500))
    presence = job.presence().get_json()
    assert presence["fixes_inside"] == 0 and presence["seconds_inside"] == 0
    assert presence["first_inside"] is None and presence["stays"] == []
    # A wider circle, asked for explicitly, does take them in.
    assert job.presence(radius=600).get_json()["fixes_inside"] == 10


def test_jitter_at_the_fence_edge_does_not_cut_the_time_there(job: Job) -> None:
    # On site, the fix wanders across the 100 m edge (90 m ↔ 160 m) every 30 s.
    job.tracked.send(*[fix(15 - step * 0.5, 90 if step % 2 else 160) for step in range(20)])
    presence = job.presence().get_json()
    assert presence["fixes_inside"] == 10
    assert len(presence["stays"]) == 1  # one stay, not ten
    assert presence["seconds_inside"] == pytest.approx(9 * 60, abs=1)


def test_a_span_with_more_fixes_than_one_answer_reads_says_where_it_stopped(
    job: Job, client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(presence_service, "MAX_FIXES", 4)
    sent = parked(10, 20)
    job.tracked.send(*sent)
    presence = job.presence().get_json()
    assert presence["truncated"] is True
    assert presence["counted_until"][:19] == sent[3]["fixed_at"][:19]  # the 4th, oldest first
    assert presence["fixes_inside"] == 4
    assert presence["last_inside"]["fixed_at"][:19] == sent[3]["fixed_at"][:19]
    validator(client, {"$ref": "#/components/schemas/Presence"}).validate(presence)

    monkeypatch.setattr(presence_service, "MAX_FIXES", 10)  # exactly as many: all counted
    presence = job.presence().get_json()
    assert presence["truncated"] is False and presence["fixes_inside"] == 10
    assert presence["counted_until"] == presence["to"]


def test_fixes_come_in_pages_that_cover_every_fix_once(job: Job, client: ApiClient) -> None:
    sent = parked(10, 20, count=9)
    job.tracked.send(*sent)
    seen: list[str] = []
    cursor = None
    check = validator(
        client,
        {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Sighting"}}
            },
        },
    )
    while True:
        query = {"limit": 4} if cursor is None else {"limit": 4, "cursor": cursor}
        body = job.fixes(**query).get_json()
        check.validate(body)
        seen += [item["fixed_at"][:19] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f["fixed_at"][:19] for f in sent]


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ({"near": "91,121.47"}, "near", "out_of_range"),
        ({"near": "31.23,-180.5"}, "near", "out_of_range"),
        ({"near": "nan,121.47"}, "near", "out_of_range"),
        ({"near": "31.23,inf"}, "near", "out_of_range"),
        ({"near": "31.23"}, "near", "invalid_format"),
        ({"near": "north,east"}, "near", "invalid_format"),
        ({"radius": "0"}, "radius", "out_of_range"),
        ({"radius": "-5"}, "radius", "out_of_range"),
        ({"radius": "5001"}, "radius", "out_of_range"),
        ({"radius": "NaN"}, "radius", "out_of_range"),
        (
            {"from": "2026-12-04T10:00:00Z", "to": "2026-12-04T09:00:00Z"},
            "to",
            "end_not_after_start",
        ),
        ({"from": "2026-11-01T00:00:00Z", "to": "2026-11-09T00:00:00Z"}, "to", "window_too_long"),
        ({"from": "2026-12-04T10:00:00"}, "from", "invalid_format"),
    ],
)
def test_bad_queries_are_refused_with_the_field_and_a_stable_code(
    job: Job, query: dict[str, str], field: str, code: str
) -> None:
    body = assert_problem(job.fixes(**query), 422, "request.validation_failed")
    assert [(error["field"], error["code"]) for error in body["errors"]] == [(field, code)]


def test_a_missing_point_is_refused(job: Job) -> None:
    path = f"/v1/technicians/{job.tracked.technician.id}/fixes"
    body = assert_problem(job.admin.get(path), 422, "request.validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("near", "required")]


def test_another_tenants_technician_and_job_are_not_found(
    job: Job, client: ApiClient, factories: Factories
) -> None:
    job.tracked.send(*parked(10, 20))
    stranger = client.as_(factories.tenant().admin_token)
    assert_problem(job.fixes(stranger), 404, "technician.not_found")
    response = stranger.get(f"/v1/work-orders/{job.order_id}/presence")
    assert_problem(response, 404, "work_order.not_found")


def test_a_customer_cannot_ask_where_the_technician_was(
    job: Job, client: ApiClient, factories: Factories
) -> None:
    job.tracked.send(*parked(10, 20))
    _, token = factories.customer_login(job.tracked.world, job.customer)
    customer = client.as_(token)
    assert_problem(job.fixes(customer), 403, "auth.forbidden")
    response = customer.get(f"/v1/work-orders/{job.order_id}/presence")
    assert_problem(response, 403, "auth.forbidden")


def test_a_technician_reads_their_own_fixes_but_not_a_colleagues(
    job: Job, client: ApiClient, factories: Factories
) -> None:
    job.tracked.send(*parked(10, 20))
    assert len(job.fixes(job.tracked.api).get_json()["items"]) == 10
    _, _, colleague = factories.technician_user(job.tracked.world)
    assert_problem(job.fixes(client.as_(colleague)), 404, "technician.not_found")


def test_presence_needs_a_job_under_way(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    order = factories.work_order(world)
    response = client.as_(world.admin_token).get(f"/v1/work-orders/{order.id}/presence")
    assert_problem(response, 409, "location.job_not_started")


def test_presence_ends_when_the_job_does(job: Job, factories: Factories, engine: Engine) -> None:
    job.tracked.send(*parked(20, 20))
    world = job.tracked.world
    ended = utcnow() - timedelta(minutes=10)
    factories.transition(world, job.order_id, "cancel", reason="customer away", occurred_at=ended)
    job.tracked.send(*parked(5, 20))  # back at the site after the job: not this job's time
    presence = job.presence().get_json()
    assert presence["fixes_inside"] == 10
    assert presence["to"][:19] == ended.isoformat()[:19]


def test_an_arrival_shows_the_fixes_that_made_it(job: Job, uow_factory: UnitOfWorkFactory) -> None:
    drive = [fix(13 - step * 0.5, 2000 - step * 400) for step in range(5)]
    stay = parked(10, 50, count=9)
    job.tracked.send(*drive, *stay)

    visit = job.admin.get(f"/v1/work-orders/{job.order_id}/visit").get_json()
    evidence = visit["arrival_evidence"]
    assert visit["arrival"] == "suggested"
    assert evidence["first"]["fixed_at"][:19] == stay[0]["fixed_at"][:19]
    # The dwell is 2 minutes: the fifth fix, 30 s apart, completes it.
    assert evidence["last"]["fixed_at"][:19] == stay[4]["fixed_at"][:19]
    assert evidence["fixes"] == 5
    assert evidence["first"]["distance_m"] == pytest.approx(50, abs=2)
    assert visit["departure_evidence"] is None

    while run_once(uow_factory, HANDLERS):
        pass
    notes = job.tracked.api.get("/v1/notifications").get_json()["items"]
    (suggested,) = [n for n in notes if n["kind"] == "work_order.arrival_suggested"]
    assert suggested["data"]["evidence"] == evidence
    assert "5" in suggested["body"]


def test_a_departure_shows_the_absence_that_made_it(job: Job) -> None:
    job.tracked.send(*parked(20, 20))
    gone = [fix(4 - step * 0.5, 500 + step * 100) for step in range(8)]
    job.tracked.send(*gone)
    visit = job.admin.get(f"/v1/work-orders/{job.order_id}/visit").get_json()
    assert visit["left_at"][:19] == gone[0]["fixed_at"][:19]
    departure = visit["departure_evidence"]
    assert departure["first"]["fixed_at"][:19] == gone[0]["fixed_at"][:19]
    assert departure["fixes"] == 5 and departure["first"]["distance_m"] > 200
