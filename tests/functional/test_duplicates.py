"""Likely duplicates: found when an order comes in, offered to the office, dismissed or merged."""

from __future__ import annotations

from typing import Any

from api.audit.chain import verify_tenant
from api.auth.permissions import Role
from api.workorders.states import Status
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene
from tests.support.push import Device, new_id
from tests.support.sync import Replica


def _suggestions(api: ApiClient, order_id: object, **query: str) -> list[dict[str, Any]]:
    response = api.get(f"/v1/work-orders/{order_id}/duplicates", query_string=query)
    assert response.status_code == 200, response.get_json()
    items: list[dict[str, Any]] = response.get_json()["items"]
    return items


def _pair(factories: Factories, scene: Scene) -> tuple[Any, Any]:
    world = scene.world
    asset = factories.asset(world, scene.site)
    first = factories.work_order(
        world, scene.customer, scene.site, title="3号机房空调不制冷", asset_ids=[asset.id]
    )
    second = factories.work_order(
        world,
        scene.customer,
        scene.site,
        title="空调不制冷",
        description="3号机房的空调又不制冷了",
        asset_ids=[asset.id],
    )
    return first, second


def _merge(api: ApiClient, order_id: object, into: object, etag: str | None) -> Any:
    headers = {"If-Match": etag} if etag else {}
    return api.post(
        f"/v1/work-orders/{order_id}/merge", json={"into_work_order_id": str(into)}, headers=headers
    )


def test_a_second_report_of_the_same_problem_is_offered_to_the_office_on_both_orders(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    first, second = _pair(factories, scene)
    office = client.as_(scene.dispatcher_token)

    [seen_from_new] = _suggestions(office, second.id)
    assert seen_from_new["other"]["id"] == str(first.id)
    assert {"same_site", "same_asset"} <= set(seen_from_new["reasons"])
    assert 60 <= seen_from_new["score"] <= 100 and seen_from_new["state"] == "open"
    [seen_from_old] = _suggestions(office, first.id)
    assert seen_from_old["id"] == seen_from_new["id"]
    assert seen_from_old["other"]["id"] == str(second.id)
    flagged = {
        o["id"]: o["possible_duplicates"] for o in office.get("/v1/work-orders").json["items"]
    }
    assert flagged == {str(first.id): 1, str(second.id): 1}
    assert office.get(f"/v1/work-orders/{second.id}").json["possible_duplicates"] == 1


def test_other_customers_other_sites_other_problems_are_not_duplicates(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    factories.work_order(world, scene.customer, scene.site, title="电梯异响 lift noise")
    stranger = factories.customer(world)
    elsewhere = factories.site(world, scene.customer)
    checks = [
        factories.work_order(world, stranger, factories.site(world, stranger), title="电梯异响"),
        factories.work_order(world, scene.customer, elsewhere, title="电梯异响 lift noise"),
        factories.work_order(world, scene.customer, scene.site, title="Water leaking from roof"),
    ]
    office = client.as_(scene.dispatcher_token)
    for order in checks:
        assert _suggestions(office, order.id) == []
        assert office.get(f"/v1/work-orders/{order.id}").json["possible_duplicates"] == 0


def test_orders_created_offline_and_from_the_repair_page_are_checked_too(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    first = factories.work_order(
        world, scene.customer, scene.site, title="配电柜跳闸 breaker trips"
    )
    factories.advance(world, first, Status.ASSIGNED, scene.technician)  # the site is theirs
    device = Device(client.as_(scene.technician_token))
    args = {
        "id": str(new_id()),
        "title": "配电柜又跳闸了 breaker trips again",
        "customer_id": str(scene.customer.id),
        "site_id": str(scene.site.id),
    }
    [receipt] = device.push_ok([device.raw("create_work_order", args)]).receipts
    assert receipt.status.value == "applied", (receipt.code, receipt.detail)
    [found] = _suggestions(client.as_(scene.dispatcher_token), args["id"])
    assert found["other"]["id"] == str(first.id)


def test_dismissing_clears_the_flag_for_good_and_is_audited(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    first, second = _pair(factories, scene)
    office = client.as_(scene.dispatcher_token)
    [suggestion] = _suggestions(office, first.id)
    path = f"/v1/work-orders/{first.id}/duplicates/{suggestion['id']}/dismissal"

    for _ in range(2):  # twice: the same answer
        response = office.post(path)
        assert response.status_code == 200, response.get_json()
        assert response.json["state"] == "dismissed" and response.json["decided_at"]
    assert _suggestions(office, second.id) == []
    assert office.get(f"/v1/work-orders/{second.id}").json["possible_duplicates"] == 0
    assert [s["id"] for s in _suggestions(office, second.id, state="dismissed")] == [
        suggestion["id"]
    ]
    audit = client.as_(scene.world.admin_token).get(
        "/v1/audit-events", query_string={"action": "dismiss"}
    )
    assert [e["entity_id"] for e in audit.json["items"]] == [suggestion["id"]]
    technician = client.as_(scene.technician_token)
    assert_problem(technician.post(path), 403, "auth.forbidden")
    other = factories.work_order(scene.world, title="无关")
    wrong_order = f"/v1/work-orders/{other.id}/duplicates/{suggestion['id']}/dismissal"
    assert_problem(office.post(wrong_order), 404, "duplicate.not_found")


def test_merging_cancels_the_duplicate_keeps_both_histories_and_is_idempotent(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    primary, duplicate = _pair(factories, scene)
    duplicate = factories.advance(world, duplicate, Status.ACCEPTED, scene.technician)
    factories.note(world, duplicate, "客户说下午在家")
    office = client.as_(scene.dispatcher_token)
    replica = Replica(
        client.as_(scene.technician_token), {f"technician:{scene.technician.id}": None}
    )
    replica.sync()
    etag = office.get(f"/v1/work-orders/{duplicate.id}").headers["ETag"]

    assert_problem(
        _merge(office, duplicate.id, primary.id, None), 428, "concurrency.if_match_required"
    )
    assert_problem(
        _merge(office, duplicate.id, primary.id, '"1"'), 412, "concurrency.stale_version"
    )
    merged = _merge(office, duplicate.id, primary.id, etag)
    assert merged.status_code == 200, merged.get_json()
    assert merged.json["status"] == "cancelled"
    assert merged.json["merged_into_id"] == str(primary.id)
    again = _merge(office, duplicate.id, primary.id, etag)  # a retry after a lost response
    assert again.status_code == 200 and again.json == merged.json

    history = office.get(f"/v1/work-orders/{duplicate.id}/history").json["items"]
    assert (history[-1]["action"], history[-1]["reason"]) == ("cancel", "duplicate")
    timeline = office.get(f"/v1/work-orders/{primary.id}/timeline").json["items"]
    assert {row["work_order_id"] for row in timeline} == {str(primary.id), str(duplicate.id)}
    assert len(timeline) == 1 + len(history)  # the primary's creation, all of the duplicate's
    [link] = office.get(f"/v1/work-orders/{primary.id}/links").json["items"]
    assert (link["kind"], link["direction"], link["other"]["id"]) == (
        "merged_into",
        "incoming",
        str(duplicate.id),
    )
    notes = office.get(f"/v1/work-orders/{duplicate.id}/notes").json["items"]
    assert [n["body"] for n in notes] == ["客户说下午在家"]  # evidence stays where it was
    assert _suggestions(office, primary.id) == []
    assert [s["state"] for s in _suggestions(office, primary.id, state="merged")] == ["merged"]
    admin = client.as_(world.admin_token)
    for order_id in (primary.id, duplicate.id):
        events = admin.get(
            "/v1/audit-events", query_string={"entity_id": str(order_id), "action": "merge"}
        ).json["items"]
        assert len(events) == 1  # once, though merged twice
    with factories.uow() as uow:
        assert verify_tenant(uow.session, world.tenant_id).breaks == []  # the chains hold
    replica.sync()  # the technician's phone gets the cancellation as any other
    row = replica.rows[(f"technician:{scene.technician.id}", "work_orders", str(duplicate.id))]
    assert row["status"] == "cancelled"


def test_merges_that_cannot_be_are_refused_with_stable_codes(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    primary, duplicate = _pair(factories, scene)
    third = factories.work_order(world, scene.customer, scene.site, title="空调不制冷")
    office = client.as_(scene.dispatcher_token)

    def etag(order_id: object) -> str:
        return str(office.get(f"/v1/work-orders/{order_id}").headers["ETag"])

    assert_problem(
        _merge(office, duplicate.id, duplicate.id, etag(duplicate.id)),
        422,
        "duplicate.merge_into_itself",
    )
    stranger = factories.work_order(world, title="空调不制冷")
    assert_problem(
        _merge(office, duplicate.id, stranger.id, etag(duplicate.id)),
        422,
        "duplicate.other_customer",
    )
    intruder = factories.tenant()
    foreign = factories.work_order(intruder, title="空调不制冷")
    assert_problem(
        _merge(office, duplicate.id, foreign.id, etag(duplicate.id)), 404, "work_order.not_found"
    )
    technician = client.as_(scene.technician_token)
    assert_problem(
        _merge(technician, duplicate.id, primary.id, etag(duplicate.id)), 403, "auth.forbidden"
    )
    assert _merge(office, duplicate.id, primary.id, etag(duplicate.id)).status_code == 200
    assert_problem(
        _merge(office, duplicate.id, third.id, etag(duplicate.id)), 409, "duplicate.already_merged"
    )
    assert_problem(
        _merge(office, third.id, duplicate.id, etag(third.id)), 409, "duplicate.primary_cancelled"
    )
    done = factories.advance(
        world,
        factories.work_order(world, scene.customer, scene.site, title="空调不制冷"),
        Status.COMPLETED,
        scene.technician,
    )
    assert_problem(
        _merge(office, done.id, primary.id, etag(done.id)), 409, "work_order.illegal_transition"
    )


def test_a_merged_chain_shows_every_history_on_the_last_primary(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    world = scene.world
    a, b = _pair(factories, scene)
    c = factories.work_order(world, scene.customer, scene.site, title="空调不制冷")
    office = client.as_(scene.dispatcher_token)
    for duplicate, primary in ((a, b), (b, c)):
        etag = office.get(f"/v1/work-orders/{duplicate.id}").headers["ETag"]
        assert _merge(office, duplicate.id, primary.id, etag).status_code == 200
    timeline = office.get(f"/v1/work-orders/{c.id}/timeline").json["items"]
    assert {row["work_order_id"] for row in timeline} == {str(a.id), str(b.id), str(c.id)}


def test_the_tenant_tunes_the_window_and_the_score(client: ApiClient, factories: Factories) -> None:
    scene = factories.scene()
    admin = client.as_(scene.world.admin_token)
    assert admin.get("/v1/tenant/duplicate-settings").json == {
        "duplicate_window_hours": 72,
        "duplicate_min_score": 60,
    }
    strict = {"duplicate_window_hours": 24, "duplicate_min_score": 100}
    assert admin.request("PUT", "/v1/tenant/duplicate-settings", json=strict).status_code == 200
    _pair(factories, scene)
    office = client.as_(scene.dispatcher_token)
    assert all(o["possible_duplicates"] == 0 for o in office.get("/v1/work-orders").json["items"])
    bad = admin.request(
        "PUT", "/v1/tenant/duplicate-settings", json=strict | {"duplicate_min_score": 0}
    )
    assert_problem(bad, 422, "request.validation_failed")
    _, dispatcher_token = factories.user(scene.world, Role.DISPATCHER)
    refused = client.as_(dispatcher_token).request(
        "PUT", "/v1/tenant/duplicate-settings", json=strict
    )
    assert_problem(refused, 403, "auth.forbidden")
