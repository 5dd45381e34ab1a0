"""SLA policies through the API: due times the server computes, recomputes, pauses and owns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from api.workorders.states import Status
from sync_protocol.merge import Outcome
from sync_protocol.mutations import CreateWorkOrder, PatchWorkOrder
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.push import Device, new_id


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _policy(api: ApiClient, **data: Any) -> dict[str, Any]:
    created = api.post("/v1/sla-policies", json={"name": "标准"} | data)
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def _after(due: str, created: datetime, minutes: int) -> bool:
    """Due ``minutes`` after creation, to the second the server rounds creation up to."""
    late = _at(due) - created - timedelta(minutes=minutes)
    return timedelta(0) <= late < timedelta(seconds=1)


def _sla(api: ApiClient, order_id: Any) -> dict[str, Any]:
    response = api.get(f"/v1/work-orders/{order_id}/sla")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_due_times_follow_the_tenant_calendar_and_land_on_the_order(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    # No working time but one hour on one date three weeks from now (Shanghai 09:00-10:00).
    day = (datetime.now(UTC) + timedelta(days=21)).date()
    calendar = api.post(
        "/v1/business-calendars",
        json={"name": "默认", "time_zone": "Asia/Shanghai", "weekly_hours": {}},
    ).get_json()
    put = api.request(
        "PUT",
        f"/v1/business-calendars/{calendar['id']}/days/{day.isoformat()}",
        json={"hours": [{"start": "09:00", "end": "10:00"}]},
    )
    assert put.status_code == 200, put.get_json()
    _policy(api, first_response_minutes=30, resolution_minutes=60)

    order = factories.work_order(world)
    sla = _sla(api, order.id)
    nine = datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    assert sla["state"] == "running" and sla["arrival_due_at"] is None
    assert _at(sla["first_response_due_at"]) == nine + timedelta(minutes=30)
    assert _at(sla["resolution_due_at"]) == nine + timedelta(minutes=60)
    shown = api.get(f"/v1/work-orders/{order.id}").get_json()
    assert _at(shown["sla_due_at"]) == nine + timedelta(minutes=60)


def test_the_most_specific_policy_wins_and_changes_recompute(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    categories = factories.category_path(world)
    anything = _policy(api, resolution_minutes=600)
    urgent = _policy(api, name="紧急", priority="urgent", resolution_minutes=120)
    urgent_hvac = _policy(
        api,
        name="紧急空调",
        priority="urgent",
        category_id=str(categories[0].id),
        resolution_minutes=60,
    )
    order = factories.work_order(world, priority="urgent", category_id=categories[-1].id)
    created = _at(api.get(f"/v1/work-orders/{order.id}").get_json()["created_at"])
    sla = _sla(api, order.id)
    assert sla["policy_id"] == urgent_hvac["id"]  # round the clock: no calendar
    assert _after(sla["resolution_due_at"], created, 60)

    lowered = api.patch(f"/v1/work-orders/{order.id}", json={"priority": "low"}, etag='"1"')
    assert lowered.status_code == 200, lowered.get_json()
    assert _sla(api, order.id)["policy_id"] == anything["id"]

    api.patch(f"/v1/work-orders/{order.id}", json={"priority": "urgent"}, etag='"2"')
    assert _sla(api, order.id)["policy_id"] == urgent_hvac["id"]
    gone = api.delete(f"/v1/sla-policies/{urgent_hvac['id']}", etag='"1"')
    assert gone.status_code == 204
    assert _sla(api, order.id)["policy_id"] == urgent["id"]
    longer = api.patch(
        f"/v1/sla-policies/{urgent['id']}", json={"resolution_minutes": 240}, etag='"1"'
    )
    assert longer.status_code == 200, longer.get_json()
    assert _after(_sla(api, order.id)["resolution_due_at"], created, 240)


def test_the_clock_pauses_while_the_order_waits_and_resumes(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    api = client.as_(world.admin_token)
    _policy(api, resolution_minutes=480)
    technician = factories.technician(world)
    order = factories.advance(world, factories.work_order(world), Status.IN_PROGRESS, technician)
    before = _at(_sla(api, order.id)["resolution_due_at"])

    factories.transition(world, order, "pause", reason="等客户确认")
    paused = _sla(api, order.id)
    assert paused["state"] == "paused" and paused["resolution_due_at"] is None

    factories.transition(world, order, "resume")
    resumed = _sla(api, order.id)
    assert resumed["state"] == "running" and _at(resumed["resolution_due_at"]) >= before

    factories.advance(
        world,
        factories.transition(world, order, "complete", resolution="好了"),
        Status.COMPLETED,
        technician,
    )
    assert _sla(api, order.id)["state"] == "stopped"


def test_no_client_writes_due_times_and_bad_policies_are_refused(
    client: ApiClient, factories: Factories
) -> None:
    world, other = factories.tenant(), factories.tenant()
    api = client.as_(world.admin_token)
    order = factories.work_order(world)
    forged = api.patch(
        f"/v1/work-orders/{order.id}", json={"sla_due_at": "2030-01-01T00:00:00Z"}, etag='"1"'
    )
    assert_problem(forged, 422, "request.validation_failed")
    foreign = factories.category_path(other)[0]
    problem = assert_problem(
        api.post(
            "/v1/sla-policies",
            json={"name": "x", "category_id": str(foreign.id), "resolution_minutes": 60},
        ),
        422,
        "request.validation_failed",
    )
    assert problem["errors"][0]["field"] == "category_id"
    assert_problem(api.post("/v1/sla-policies", json={"name": "x"}), 422, "sla_policy.no_target")
    _policy(api, priority="high", resolution_minutes=60)
    assert_problem(
        api.post("/v1/sla-policies", json={"name": "y", "priority": "high", "arrival_minutes": 9}),
        409,
        "sla_policy.duplicate",
    )


def test_an_order_created_offline_gets_its_due_time_and_a_device_cannot_move_it(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    api = client.as_(scene.world.admin_token)
    _policy(api, resolution_minutes=120)
    first = factories.work_order(scene.world, scene.customer, scene.site)
    factories.transition(scene.world, first, "assign", assignee_id=scene.technician.id)
    device = Device(client.as_(scene.technician_token))
    order_id = new_id()
    create = CreateWorkOrder(
        order_id,
        {
            "title": "现场发现漏水",
            "customer_id": str(scene.customer.id),
            "site_id": str(scene.site.id),
        },
    )
    assert device.push_ok([device.mutation(create)]).receipts[0].status is Outcome.APPLIED
    sla = _sla(api, order_id)
    order = api.get(f"/v1/work-orders/{order_id}").get_json()
    assert sla["state"] == "running" and order["sla_due_at"] == sla["resolution_due_at"]
    assert _after(sla["resolution_due_at"], _at(order["created_at"]), 120)

    forged = PatchWorkOrder(order_id, {"sla_due_at": "2030-01-01T00:00:00Z"})
    receipt = device.push_ok([device.mutation(forged)]).receipts[0]
    assert receipt.status is not Outcome.APPLIED
    assert api.get(f"/v1/work-orders/{order_id}").get_json()["sla_due_at"] == order["sla_due_at"]
