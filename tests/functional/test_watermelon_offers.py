"""Job offers for WatermelonDB apps (PROTOCOL.md § 15): the ``offers`` table is pulled
by its technician, and setting an offer's ``state`` to ``accepted`` or ``declined`` is
the same answer as ``answer_offer`` (§ 8.9), exactly once, with the same refusals."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from api.db import UnitOfWorkFactory, utcnow
from api.dispatching.models import Offer
from api.dispatching.offer_sweep import expire_offers
from api.sync.watermelon.records import epoch_ms
from tests.functional.test_offers import offers_of, pending, policy, staff, work
from tests.functional.test_watermelon_pull import URL, _pull, _updated
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories

MINUTE_MS = 60_000


def _push_offer(
    api: ApiClient, pulled: dict[str, Any], row: dict[str, Any], kind: str = "updated"
) -> Any:
    """Push one ``offers`` record on top of the pull ``pulled``, as synchronize() does."""
    lists: dict[str, list[Any]] = {"created": [], "updated": [], "deleted": []}
    lists[kind].append(row)
    body = {"changes": {"offers": lists}, "lastPulledAt": pulled["timestamp"]}
    return api.post(URL, json=body)


def _pushed(api: ApiClient, pulled: dict[str, Any], row: dict[str, Any], **kw: Any) -> None:
    response = _push_offer(api, pulled, row, **kw)
    assert response.status_code == 200, response.get_data(as_text=True)


def _history(client: ApiClient, token: str, order_id: Any) -> list[tuple[str, str | None]]:
    items = client.as_(token).get(f"/v1/work-orders/{order_id}/history").get_json()["items"]
    return [(h["action"], h["reason"]) for h in items]


def _offered_ten_minutes_ago(uow_factory: UnitOfWorkFactory, offer_id: str) -> None:
    """The phone was offline while the offer ran out; the worker's sweep has not run yet."""
    with uow_factory() as uow:
        offer = uow.session.get_one(Offer, uuid.UUID(offer_id))
        offer.offered_at -= timedelta(minutes=10)
        offer.expires_at -= timedelta(minutes=10)
        uow.commit()


def test_a_technicians_app_pulls_only_their_own_offers_as_raw_records(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world, other = factories.tenant(), factories.tenant()
    policy(client, world, "offer")
    _, near_token = staff(factories, world, 300)
    _, far_token = staff(factories, world, 900)
    _, stranger_token = staff(factories, other, 300)
    order = factories.work_order(world)
    work(uow_factory)

    body = _pull(client.as_(near_token), None)

    (row,) = _updated(body, "offers").values()
    assert (row["work_order_id"], row["state"], row["number"]) == (
        str(order.id),
        "pending",
        order.number,
    )
    assert isinstance(row["expires_at"], int) and row["expires_at"] > row["offered_at"]
    assert isinstance(row["score"], float) and row["answered_at"] is None
    assert not {"tenant_id", "version"} & set(row)
    assert str(order.id) not in _updated(body, "work_orders")  # not theirs until accepted
    assert _updated(_pull(client.as_(far_token), None), "offers") == {}
    assert _updated(_pull(client.as_(stranger_token), None), "offers") == {}


def test_an_offer_accepted_offline_and_pushed_late_assigns_the_order_once(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    policy(client, world, "offer")
    near, near_token = staff(factories, world, 300)
    staff(factories, world, 900)
    order = factories.work_order(world)
    work(uow_factory)
    _offered_ten_minutes_ago(uow_factory, pending(client, near_token)[0]["id"])
    app = client.as_(near_token)
    pulled = _pull(app, None)
    (row,) = _updated(pulled, "offers").values()
    answered_at = row["offered_at"] + MINUTE_MS  # before expires_at, pushed well after it
    accepted = row | {"state": "accepted", "answered_at": answered_at}

    _pushed(app, pulled, accepted)

    got = client.as_(world.admin_token).get(f"/v1/work-orders/{order.id}").get_json()
    assert (got["status"], got["assignee_id"]) == ("accepted", str(near.id))
    # Dated when the app answered (the arrange put the offer before the order's creation).
    expected = [("assign", "offer accepted"), ("accept", None), ("create", None)]
    assert _history(client, world.admin_token, order.id) == expected
    later = _pull(app, pulled["timestamp"])
    back = _updated(later, "offers")[row["id"]]
    assert (back["state"], back["answered_at"]) == ("accepted", answered_at)
    assert _updated(later, "work_orders")[str(order.id)]["status"] == "accepted"

    # The push again: on the old pull it is refused whole; on the new one it changes nothing.
    assert_problem(_push_offer(app, pulled, accepted), 409, "sync.pull_first")
    _pushed(app, later, accepted)
    assert _history(client, world.admin_token, order.id) == expected
    assert _updated(_pull(app, later["timestamp"]), "quarantine") == {}
    assert offers_of(client, world, order.id)["dispatch"]["state"] == "assigned"


def test_a_declined_offer_goes_to_the_next_candidate(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    policy(client, world, "offer")
    near, near_token = staff(factories, world, 300)
    far, far_token = staff(factories, world, 900)
    order = factories.work_order(world)
    work(uow_factory)
    app = client.as_(near_token)
    pulled = _pull(app, None)
    (row,) = _updated(pulled, "offers").values()

    _pushed(app, pulled, row | {"state": "declined", "reason": "车坏了"})

    dispatch = offers_of(client, world, order.id)
    assert [(o["technician_id"], o["state"], o["reason"]) for o in dispatch["offers"]] == [
        (str(near.id), "declined", "车坏了"),
        (str(far.id), "pending", None),
    ]
    (offered,) = _updated(_pull(client.as_(far_token), None), "offers").values()
    assert (offered["work_order_id"], offered["attempt"]) == (str(order.id), 2)
    got = client.as_(world.admin_token).get(f"/v1/work-orders/{order.id}").get_json()
    assert (got["status"], got["assignee_id"]) == ("new", None)


def test_a_late_answer_to_an_offer_that_ended_is_quarantined_and_corrected(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    policy(client, world, "offer")
    near, near_token = staff(factories, world, 300)
    staff(factories, world, 900)
    timed_out, withdrawn = factories.work_order(world), factories.work_order(world)
    work(uow_factory)
    app = client.as_(near_token)
    pulled = _pull(app, None)
    rows = {r["work_order_id"]: r for r in _updated(pulled, "offers").values()}
    late, gone = rows[str(timed_out.id)], rows[str(withdrawn.id)]
    # While the phone is offline: the office assigns the second order, the first offer
    # times out.
    factories.transition(world, withdrawn, "assign", assignee_id=near.id)
    assert expire_offers(uow_factory, utcnow() + timedelta(minutes=6)) == 1
    work(uow_factory)
    accepted = {
        "created": [],
        "deleted": [],
        "updated": [
            late | {"state": "accepted", "answered_at": late["expires_at"] + MINUTE_MS},
            gone | {"state": "accepted"},
        ],
    }
    stale = app.post(
        URL, json={"changes": {"offers": accepted}, "lastPulledAt": pulled["timestamp"]}
    )
    assert_problem(stale, 409, "sync.pull_first")

    fresh = _pull(app, pulled["timestamp"])  # WatermelonDB keeps its local answers
    body = {"changes": {"offers": accepted}, "lastPulledAt": fresh["timestamp"]}
    assert app.post(URL, json=body).status_code == 200

    after = _pull(app, fresh["timestamp"])
    refusals = {
        json.loads(q["mutation"])["args"]["offer_id"]: (q["code"], q["field"])
        for q in _updated(after, "quarantine").values()
    }
    assert refusals == {
        late["id"]: ("sync.offer_closed", "args.offer_id"),
        gone["id"]: ("sync.offer_closed", "args.offer_id"),
    }
    offers = _updated(after, "offers")  # the server's rows again: the app shows the outcome
    assert (offers[late["id"]]["state"], offers[gone["id"]]["state"]) == ("expired", "withdrawn")
    assert not _updated(after, "offers").keys() & set(after["changes"]["offers"]["deleted"])
    got = client.as_(world.admin_token).get(f"/v1/work-orders/{timed_out.id}").get_json()
    assert got["assignee_id"] != str(near.id)


def test_an_accept_dated_after_the_offer_expired_is_refused(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    policy(client, world, "offer")
    _, token = staff(factories, world, 300)
    order = factories.work_order(world)
    work(uow_factory)
    _offered_ten_minutes_ago(uow_factory, pending(client, token)[0]["id"])
    app = client.as_(token)
    pulled = _pull(app, None)
    (row,) = _updated(pulled, "offers").values()

    _pushed(app, pulled, row | {"state": "accepted", "answered_at": epoch_ms(utcnow())})

    (entry,) = _updated(_pull(app, pulled["timestamp"]), "quarantine").values()
    assert (entry["code"], entry["work_order_id"]) == ("sync.offer_expired", str(order.id))
    assert pending(client, token)[0]["id"] == row["id"]  # still open for the sweep


def test_an_app_cannot_add_an_offer_or_answer_another_technicians(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    policy(client, world, "offer")
    _, near_token = staff(factories, world, 300)
    _, far_token = staff(factories, world, 900)
    factories.work_order(world)
    work(uow_factory)
    mine = _updated(_pull(client.as_(near_token), None), "offers")
    (theirs,) = mine.values()
    app = client.as_(far_token)
    pulled = _pull(app, None)
    invented = theirs | {"id": "01958f3a-7c00-7a1e-9c1a-3f5e2b7d4c42", "state": "accepted"}

    _pushed(app, pulled, theirs | {"state": "accepted"})
    _pushed(app, _pull(app, pulled["timestamp"]), invented, kind="created")

    after = _pull(app, None)
    codes = {
        json.loads(q["mutation"])["name"]: q["code"] for q in _updated(after, "quarantine").values()
    }
    assert codes == {"answer_offer": "sync.not_in_scope", "create_record": "sync.table_read_only"}
    assert _updated(after, "offers") == {}
    assert [o["id"] for o in pending(client, near_token)] == [theirs["id"]]
