"""Auto-dispatch: offers to the best qualified technician, answered online or offline."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from api.db import UnitOfWorkFactory, utcnow
from api.dispatching.offer_sweep import expire_offers
from api.dispatching.requests import TOPIC_REQUESTED
from api.notifications.models import Notification
from api.outbox.models import OutboxMessage
from api.outbox.registry import HANDLERS
from api.outbox.worker import run_once
from api.technicians.models import Technician
from sync_protocol.mutations import CreateWorkOrder
from tests.functional.test_candidates import NIGHTS_ONLY, tomorrow_in_shanghai
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.core import World
from tests.support.positions import ALWAYS, LAT, LON
from tests.support.push import Device, new_id


def work(uow_factory: UnitOfWorkFactory) -> None:
    """What the worker would do now: run the outbox until it is empty."""
    while run_once(uow_factory, HANDLERS):
        pass


def policy(client: ApiClient, world: World, mode: str, **values: Any) -> None:
    body = {"dispatch_mode": mode, "offer_timeout_s": 300, "offer_max_declines": 3} | values
    response = client.as_(world.admin_token).request(
        "PUT", "/v1/tenant/dispatch-settings", json=body
    )
    assert response.status_code == 200, response.get_json()


def staff(factories: Factories, world: World, east_m: float, **data: Any) -> tuple[Technician, str]:
    """A technician who logs in, with a home base ``east_m`` east of the sites."""
    fields: dict[str, Any] = {
        "working_hours": ALWAYS,
        "skills": [{"skill": "hvac", "level": 3}],
        "home_base": {"address": "家", "position": {"lat": LAT, "lon": LON + east_m / 95_000}},
    }
    technician, _, token = factories.technician_user(world, **(fields | data))
    return technician, token


def offers_of(client: ApiClient, world: World, order_id: uuid.UUID) -> Any:
    response = client.as_(world.admin_token).get(f"/v1/work-orders/{order_id}/offers")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def pending(client: ApiClient, token: str) -> list[dict[str, Any]]:
    body = client.as_(token).get("/v1/offers", query_string={"state": "pending"}).get_json()
    return list(body["items"])


def answer(client: ApiClient, token: str, offer: dict[str, Any], verb: str, **body: Any) -> Any:
    return client.as_(token).post(
        f"/v1/offers/{offer['id']}/{verb}",
        json=body or None,
        headers={"If-Match": f'"{offer["version"]}"'},
    )


def test_the_best_candidate_is_offered_the_job_and_accepting_assigns_it(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    policy(client, world, "offer")
    near, near_token = staff(factories, world, 500)
    far, far_token = staff(factories, world, 5_000)
    staff(factories, world, 100, skills=[{"skill": "plumbing", "level": 5}])  # unqualified
    staff(factories, world, 50, working_hours=NIGHTS_ONLY)  # off shift
    *_, symptom = factories.category_path(world)
    api = client.as_(world.admin_token)
    category = api.get(f"/v1/categories/{symptom.id}")
    api.patch(
        f"/v1/categories/{symptom.id}",
        etag=category.headers["ETag"],
        json={"required_skills": [{"skill": "hvac", "level": 2}]},
    )
    order = factories.work_order(world, category_id=symptom.id)

    work(uow_factory)

    mine = pending(client, near_token)
    assert [o["work_order_id"] for o in mine] == [str(order.id)]
    assert pending(client, far_token) == []
    offer = mine[0]
    assert offer["attempt"] == 1 and offer["number"] == order.number
    with uow_factory() as uow:  # the technician was told (in the app; by push if subscribed)
        told = uow.session.scalars(
            select(Notification.kind).where(Notification.user_id == near.user_id)
        ).all()
    assert list(told) == ["work_order.offered"]

    without_etag = client.as_(near_token).post(f"/v1/offers/{offer['id']}/accept")
    assert_problem(without_etag, 428, "concurrency.if_match_required")
    stale = client.as_(near_token).post(
        f"/v1/offers/{offer['id']}/accept", headers={"If-Match": '"9"'}
    )
    assert_problem(stale, 412, "concurrency.stale_version")
    assert_problem(answer(client, far_token, offer, "accept"), 404, "offer.not_found")

    accepted = answer(client, near_token, offer, "accept")

    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["state"] == "accepted"
    got = api.get(f"/v1/work-orders/{order.id}").get_json()
    assert (got["status"], got["assignee_id"]) == ("accepted", str(near.id))
    history = api.get(f"/v1/work-orders/{order.id}/history").get_json()["items"]
    assert [(h["action"], h["reason"]) for h in history] == [
        ("create", None),
        ("assign", "offer accepted"),
        ("accept", None),
    ]
    assert offers_of(client, world, order.id)["dispatch"]["state"] == "assigned"
    again = answer(client, near_token, accepted.get_json(), "accept")
    assert_problem(again, 409, "offer.closed")
    del far


def test_declines_pass_the_job_on_until_the_dispatchers_queue_takes_it(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    policy(client, world, "offer", offer_max_declines=2)
    first, first_token = staff(factories, world, 300)
    second, second_token = staff(factories, world, 900)
    staff(factories, world, 2_000)
    order = factories.work_order(world)
    work(uow_factory)

    blank = answer(client, first_token, pending(client, first_token)[0], "decline", reason=" ")
    assert_problem(blank, 422, "request.validation_failed")
    declined = answer(
        client, first_token, pending(client, first_token)[0], "decline", reason="车坏了"
    )
    assert declined.get_json()["state"] == "declined"
    assert [o["attempt"] for o in pending(client, second_token)] == [2]
    answer(client, second_token, pending(client, second_token)[0], "decline", reason="太远")

    dispatch = offers_of(client, world, order.id)
    assert [(o["technician_id"], o["state"], o["reason"]) for o in dispatch["offers"]] == [
        (str(first.id), "declined", "车坏了"),
        (str(second.id), "declined", "太远"),
    ]
    assert dispatch["dispatch"]["state"] == "queued"
    assert dispatch["dispatch"]["reason_code"] == "declined"
    queue = client.as_(world.admin_token).get("/v1/dispatch-queue").get_json()["items"]
    assert [(q["work_order_id"], q["reason"]) for q in queue] == [
        (str(order.id), "2 offers declined or unanswered (the limit is 2)")
    ]

    factories.transition(world, order, "assign", assignee_id=first.id)
    assert client.as_(world.admin_token).get("/v1/dispatch-queue").get_json()["items"] == []


def test_an_unanswered_offer_times_out_and_the_next_candidate_gets_one(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    policy(client, world, "offer", offer_timeout_s=60)
    _, first_token = staff(factories, world, 300)
    second, second_token = staff(factories, world, 900)
    order = factories.work_order(world)
    work(uow_factory)
    late = pending(client, first_token)[0]

    assert expire_offers(uow_factory, utcnow()) == 0  # not yet due
    assert expire_offers(uow_factory, utcnow() + timedelta(seconds=61)) == 1
    work(uow_factory)

    assert pending(client, first_token) == []
    assert [o["technician_id"] for o in pending(client, second_token)] == [str(second.id)]
    assert_problem(answer(client, first_token, late, "accept"), 412, "concurrency.stale_version")
    fresh = client.as_(first_token).get(f"/v1/offers/{late['id']}").get_json()
    assert fresh["state"] == "expired"
    assert_problem(answer(client, first_token, fresh, "accept"), 409, "offer.closed")
    assert offers_of(client, world, order.id)["dispatch"]["state"] == "offering"


def test_auto_mode_assigns_the_best_and_suggest_mode_only_proposes(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    best, _ = staff(factories, world, 200)
    staff(factories, world, 3_000)
    policy(client, world, "auto")
    assigned = factories.work_order(world)
    policy(client, world, "suggest")
    suggested = factories.work_order(world)
    work(uow_factory)

    api = client.as_(world.admin_token)
    got = api.get(f"/v1/work-orders/{assigned.id}").get_json()
    assert (got["status"], got["assignee_id"]) == ("assigned", str(best.id))
    assert api.get(f"/v1/work-orders/{suggested.id}").get_json()["status"] == "new"
    queue = api.get("/v1/dispatch-queue").get_json()["items"]
    assert [(q["work_order_id"], q["state"], q["suggested_technician_id"]) for q in queue] == [
        (str(suggested.id), "suggested", str(best.id))
    ]


def test_the_office_assigning_withdraws_the_pending_offer(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    policy(client, world, "offer")
    offered, token = staff(factories, world, 300)
    other, _ = staff(factories, world, 600)
    order = factories.work_order(world)
    work(uow_factory)
    offer = pending(client, token)[0]

    factories.transition(world, order, "assign", assignee_id=other.id)

    withdrawn = client.as_(token).get(f"/v1/offers/{offer['id']}").get_json()
    assert (withdrawn["state"], withdrawn["reason"]) == ("withdrawn", "the order was assigned")
    assert_problem(answer(client, token, withdrawn, "accept"), 409, "offer.closed")
    del offered


def test_a_technician_who_no_longer_qualifies_cannot_accept(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    policy(client, world, "offer")
    technician, token = staff(factories, world, 300)
    factories.work_order(world, required_skills=[{"skill": "hvac", "level": 3}])
    work(uow_factory)
    offer = pending(client, token)[0]
    api = client.as_(world.admin_token)
    current = api.get(f"/v1/technicians/{technician.id}")
    demoted = api.patch(
        f"/v1/technicians/{technician.id}",
        etag=current.headers["ETag"],
        json={"skills": [{"skill": "hvac", "level": 1}]},
    )
    assert demoted.status_code == 200, demoted.get_json()

    refused = answer(client, token, offer, "accept")

    body = assert_problem(refused, 409, "offer.ineligible")
    assert body["filter"] == "skill_level_too_low"


def test_another_tenant_never_sees_or_answers_an_offer(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world, other = factories.tenant(), factories.tenant()
    policy(client, world, "offer")
    _, token = staff(factories, world, 300)
    _, stranger_token = staff(factories, other, 300)
    factories.work_order(world)
    work(uow_factory)
    offer = pending(client, token)[0]

    for path in (f"/v1/offers/{offer['id']}",):
        assert_problem(client.as_(other.admin_token).get(path), 404, "offer.not_found")
    assert_problem(answer(client, stranger_token, offer, "accept"), 404, "offer.not_found")
    assert client.as_(other.admin_token).get("/v1/offers").get_json()["items"] == []


@pytest.mark.parametrize("verb", ["accept", "decline"])
def test_an_offline_device_answers_through_sync_and_pulls_the_outcome(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, verb: str
) -> None:
    world = factories.tenant()
    policy(client, world, "offer")
    technician, token = staff(factories, world, 300)
    staff(factories, world, 900)
    order = factories.work_order(world)
    work(uow_factory)
    device = Device(client.as_(token))
    offer = pending(client, token)[0]
    args = {"offer_id": offer["id"], "work_order_id": str(order.id), "answer": verb}
    if verb == "decline":
        args["reason"] = "在另一个现场"

    receipts = device.push_ok([device.raw("answer_offer", args)]).receipts

    assert [r.status.value for r in receipts] == ["applied"]
    again = device.push_ok([device.raw("answer_offer", args)]).receipts  # a new seq: refused
    assert [(r.status.value, r.code) for r in again] == [("rejected", "sync.offer_closed")]
    got = client.as_(world.admin_token).get(f"/v1/work-orders/{order.id}").get_json()
    if verb == "accept":
        assert (got["status"], got["assignee_id"]) == ("accepted", str(technician.id))
    else:
        assert got["status"] == "new"
        assert [o["state"] for o in offers_of(client, world, order.id)["offers"]] == [
            "declined",
            "pending",
        ]


def test_an_order_created_offline_is_offered_once_however_often_its_batch_is_replayed(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    near, near_token = staff(factories, world, 300)
    creator, creator_token = staff(factories, world, 4_000)
    known = factories.work_order(world)  # the creator works for this customer already
    factories.transition(world, known, "assign", assignee_id=creator.id)
    policy(client, world, "offer")
    device = Device(client.as_(creator_token))
    created_id = new_id()
    fields = {"title": "离线发现漏水", "customer_id": str(known.customer_id),
              "site_id": str(known.site_id)}  # fmt: skip
    batch = [device.mutation(CreateWorkOrder(created_id, fields))]

    first = device.push_ok(batch).receipts
    assert [r.status.value for r in first] == ["applied"]
    work(uow_factory)
    # The response was lost: the same batch again (its receipts are the ones kept), and
    # the same create from a phone restored from a backup.
    assert device.push_ok(batch).receipts == first
    twin = Device(client.as_(creator_token))
    twin_batch = [twin.mutation(CreateWorkOrder(created_id, fields))]
    assert [r.status.value for r in twin.push_ok(twin_batch).receipts] == ["duplicate"]
    work(uow_factory)

    dispatch = offers_of(client, world, created_id)
    assert [(o["technician_id"], o["state"]) for o in dispatch["offers"]] == [
        (str(near.id), "pending")
    ]
    assert dispatch["dispatch"]["state"] == "offering"
    with uow_factory.reader() as uow:
        requested = uow.session.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.topic == TOPIC_REQUESTED)
        ).all()
    assert [p["work_order_id"] for p in requested].count(str(created_id)) == 1

    accepted = answer(client, near_token, pending(client, near_token)[0], "accept")
    assert accepted.status_code == 200, accepted.get_json()
    api = client.as_(world.admin_token)
    history = api.get(f"/v1/work-orders/{created_id}/history").get_json()["items"]
    assert [(h["action"], h["reason"]) for h in history] == [
        ("create", None),
        ("assign", "offer accepted"),
        ("accept", None),
    ]


@pytest.mark.parametrize("mode", ["auto", "suggest", "off"])
def test_an_order_created_offline_follows_the_tenants_dispatch_mode(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, mode: str
) -> None:
    world = factories.tenant()
    best, _ = staff(factories, world, 200)
    creator, creator_token = staff(factories, world, 4_000)
    known = factories.work_order(world)
    factories.transition(world, known, "assign", assignee_id=creator.id)
    policy(client, world, mode)
    device = Device(client.as_(creator_token))
    created_id = new_id()
    fields = {"title": "离线报修", "customer_id": str(known.customer_id),
              "site_id": str(known.site_id)}  # fmt: skip

    receipts = device.push_ok([device.mutation(CreateWorkOrder(created_id, fields))]).receipts
    work(uow_factory)

    assert receipts[0].status.value == "applied"
    api = client.as_(world.admin_token)
    got = api.get(f"/v1/work-orders/{created_id}").get_json()
    queue = api.get("/v1/dispatch-queue").get_json()["items"]
    if mode == "auto":
        assert (got["status"], got["assignee_id"]) == ("assigned", str(best.id))
    elif mode == "suggest":
        assert got["status"] == "new"
        assert [(q["work_order_id"], q["suggested_technician_id"]) for q in queue] == [
            (str(created_id), str(best.id))
        ]
    else:
        assert (got["status"], got["assignee_id"], queue) == ("new", None, [])
        assert offers_of(client, world, created_id)["offers"] == []


def test_a_preventive_order_opened_by_repeat_issues_is_offered_like_any_new_order(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    policy(client, world, "offer")
    _, token = staff(factories, world, 300)
    customer = factories.customer(world)
    site = factories.site(world, customer)
    asset = factories.asset(world, site)
    settings = {"repeat_window_days": 3, "repeat_threshold": 2, "repeat_opens_preventive": True}
    admin = client.as_(world.admin_token)
    assert (
        admin.request("PUT", "/v1/tenant/repeat-issue-settings", json=settings).status_code == 200
    )
    for _ in range(2):
        factories.work_order(world, customer, site, asset_ids=[asset.id])
        work(uow_factory)

    offered = {o["work_order_id"] for o in pending(client, token)}
    preventive = [
        order
        for order in admin.get("/v1/work-orders", query_string={"limit": 50}).get_json()["items"]
        if order["source"] == "preventive"
    ]
    assert len(preventive) == 1
    assert preventive[0]["id"] in offered  # the policy reached it, not only the two reports


def test_a_booked_window_is_offered_to_who_works_then_and_can_answer_now(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    day = tomorrow_in_shanghai()  # the window: 09:00-12:00 tomorrow, Shanghai time
    start, end = day + timedelta(hours=9), day + timedelta(hours=12)
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    today, tomorrow = days[(day - timedelta(days=1)).weekday()], days[day.weekday()]
    staff(factories, world, 100, working_hours={today: [["00:00", "24:00"]]})  # nearest
    tomorrow_only, _ = staff(factories, world, 300, working_hours={tomorrow: [["00:00", "24:00"]]})
    both, both_token = staff(factories, world, 2_000)  # always on shift, farthest

    policy(client, world, "offer")
    offered = factories.work_order(world, requested_start=start, requested_end=end)
    work(uow_factory)
    # Not the nearest (off shift in the window), nor the next (cannot answer before then).
    assert [o["technician_id"] for o in offers_of(client, world, offered.id)["offers"]] == [
        str(both.id)
    ]
    (offer,) = pending(client, both_token)
    assert answer(client, both_token, offer, "accept").status_code == 200  # checked in the window

    policy(client, world, "auto")
    assigned = factories.work_order(world, requested_start=start, requested_end=end)
    work(uow_factory)
    got = client.as_(world.admin_token).get(f"/v1/work-orders/{assigned.id}").get_json()
    assert (got["status"], got["assignee_id"]) == ("assigned", str(tomorrow_only.id))
