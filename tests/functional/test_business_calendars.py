"""Business calendars through the API: hours, China's holidays and 调休, overrides, refusals."""

from __future__ import annotations

from typing import Any

from api.auth.permissions import Role
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories

NINE_TO_SIX = [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "18:00"}]
WEEKDAYS = {day: NINE_TO_SIX for day in ("mon", "tue", "wed", "thu", "fri")}


def _calendar(api: ApiClient, **data: Any) -> dict[str, Any]:
    body = {"name": "上海班组", "time_zone": "Asia/Shanghai", "weekly_hours": WEEKDAYS} | data
    created = api.post("/v1/business-calendars", json=body)
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def _days(api: ApiClient, calendar_id: str, start: str, end: str) -> dict[str, dict[str, Any]]:
    response = api.get(f"/v1/business-calendars/{calendar_id}/days?from={start}&to={end}")
    assert response.status_code == 200, response.get_json()
    return {item["date"]: item for item in response.get_json()["items"]}


def test_a_china_calendar_knows_national_day_and_its_make_up_workdays(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    team = factories.team(world)
    calendar = _calendar(api, team_id=str(team.id), holiday_country="CN")
    assert calendar["weekly_hours"]["mon"] == NINE_TO_SIX and calendar["weekly_hours"]["sat"] == []

    days = _days(api, calendar["id"], "2026-09-19", "2026-10-10")
    assert days["2026-09-20"]["working"] and days["2026-09-20"]["source"] == "makeup"
    assert days["2026-09-20"]["hours"] == NINE_TO_SIX  # a make-up day works Monday's hours
    assert not days["2026-10-01"]["working"] and days["2026-10-01"]["source"] == "holiday"
    assert days["2026-10-01"]["holiday"]
    assert days["2026-10-10"]["working"]  # Saturday, the second make-up day
    assert not days["2026-09-19"]["working"] and days["2026-09-19"]["source"] == "weekly"


def test_every_day_is_editable_and_the_override_wins_until_cleared(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    _, token = factories.user(world, Role.DISPATCHER)
    api = client.as_(token)
    calendar = _calendar(api, holiday_country="CN")
    url = f"/v1/business-calendars/{calendar['id']}/days"

    half_day = api.request(
        "PUT",
        f"{url}/2026-10-02",
        json={"hours": [{"start": "09:00", "end": "12:00"}], "note": "值班"},
    )
    assert half_day.status_code == 200, half_day.get_json()
    assert api.request("PUT", f"{url}/2026-09-21", json={"hours": []}).status_code == 200
    days = _days(api, calendar["id"], "2026-09-21", "2026-10-02")
    assert days["2026-10-02"]["hours"] == [{"start": "09:00", "end": "12:00"}]
    assert days["2026-10-02"]["source"] == "override" and days["2026-10-02"]["note"] == "值班"
    assert not days["2026-09-21"]["working"]

    assert api.delete(f"{url}/2026-10-02").status_code == 204
    assert _days(api, calendar["id"], "2026-10-02", "2026-10-02")["2026-10-02"]["source"] == (
        "holiday"
    )


def test_impossible_hours_and_overlaps_are_refused_at_save_time(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    reversed_hours = {"mon": [{"start": "18:00", "end": "09:00"}]}
    body = {"name": "x", "time_zone": "Asia/Shanghai"}
    refused = api.post("/v1/business-calendars", json=body | {"weekly_hours": reversed_hours})
    problem = assert_problem(refused, 422, "business_calendar.impossible_hours")
    assert problem["errors"][0]["field"] == "weekly_hours.mon[0]"
    late = {"tue": [{"start": "20:00", "end": "25:00"}]}
    assert_problem(
        api.post("/v1/business-calendars", json=body | {"weekly_hours": late}),
        422,
        "business_calendar.impossible_hours",
    )
    overlapping = {"wed": [{"start": "09:00", "end": "13:00"}, {"start": "12:00", "end": "18:00"}]}
    assert_problem(
        api.post("/v1/business-calendars", json=body | {"weekly_hours": overlapping}),
        422,
        "business_calendar.overlapping_intervals",
    )
    calendar = _calendar(api)
    assert_problem(
        api.request(
            "PUT",
            f"/v1/business-calendars/{calendar['id']}/days/2026-10-09",
            json={"hours": [{"start": "10:00", "end": "10:00"}]},
        ),
        422,
        "business_calendar.impossible_hours",
    )
    assert_problem(
        api.patch(
            f"/v1/business-calendars/{calendar['id']}",
            json={"time_zone": "Mars/Olympus"},
            etag='"1"',
        ),
        422,
        "business_calendar.unknown_time_zone",
    )
    assert_problem(
        api.patch(
            f"/v1/business-calendars/{calendar['id']}", json={"holiday_country": "XX"}, etag='"1"'
        ),
        422,
        "business_calendar.unknown_country",
    )
    assert api.get(f"/v1/business-calendars/{calendar['id']}").get_json()["version"] == 1


def test_another_tenants_team_is_refused_and_one_calendar_per_team(
    client: ApiClient, factories: Factories
) -> None:
    world, other = factories.tenant(), factories.tenant()
    api = client.as_(world.admin_token)
    foreign = factories.team(other)
    body = {"name": "x", "time_zone": "Europe/Berlin", "weekly_hours": WEEKDAYS}
    problem = assert_problem(
        api.post("/v1/business-calendars", json=body | {"team_id": str(foreign.id)}),
        422,
        "request.validation_failed",
    )
    assert problem["errors"][0]["field"] == "team_id"
    team = factories.team(world)
    _calendar(api, team_id=str(team.id))
    assert_problem(
        api.post("/v1/business-calendars", json=body | {"team_id": str(team.id)}),
        409,
        "business_calendar.taken",
    )


def test_technicians_cannot_edit_calendars(client: ApiClient, factories: Factories) -> None:
    world = factories.tenant()
    _, _, tech_token = factories.technician_user(world)
    refused = client.as_(tech_token).post(
        "/v1/business-calendars",
        json={"name": "x", "time_zone": "Asia/Shanghai", "weekly_hours": WEEKDAYS},
    )
    assert refused.status_code == 403
