"""Web Push from a tracking page: a customer with a link and no account subscribes to
that order, hears of its steps (encrypted, signed with the tenant's VAPID key, opening
the tracking page), and stops hearing once the link no longer works."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from api.db import UnitOfWorkFactory
from api.notifications import delivery
from api.outbox.registry import HANDLERS
from api.outbox.worker import Handler, run_once
from api.push import tracking as tracking_push
from api.push.models import TrackingPushSubscription
from api.push.notifier import WebPushNotifier
from api.workorders.states import Status
from tests.functional.test_tracking import Job
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.core import SECRET
from tests.support.push_service import BrowserKeys, PushService, vapid_claims

SUBJECT = "mailto:ops@example.com"


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService().start()
    yield service
    service.stop()


@pytest.fixture
def topics() -> dict[str, Handler]:
    channels = [WebPushNotifier(SECRET, SUBJECT, ttl_seconds=3600, allow_loopback=True)]
    return {**HANDLERS, **delivery.handlers(channels), **tracking_push.handlers(channels)}


@pytest.fixture
def job(client: ApiClient, factories: Factories, engine: Engine) -> Job:
    return Job(client, factories, engine)


def _work(uow_factory: UnitOfWorkFactory, topics: dict[str, Handler]) -> None:
    while run_once(uow_factory, topics):
        pass


def _subscribe(job: Job, browser: BrowserKeys, endpoint: str, language: str = "zh-CN") -> str:
    response = job.client.post(
        f"/v1/tracking/{job.token}/push-subscriptions",
        json=browser.subscription(endpoint),
        headers={"Accept-Language": language},
    )
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def test_a_customer_subscribed_from_the_page_hears_the_technician_set_off(
    job: Job, uow_factory: UnitOfWorkFactory, push_service: PushService, topics: dict[str, Handler]
) -> None:
    job.to(Status.ACCEPTED)
    job.share()
    _work(uow_factory, topics)  # what happened before subscribing is not pushed
    key = job.client.get(f"/v1/tracking/{job.token}/vapid-public-key").get_json()["public_key"]
    phone = BrowserKeys()
    _subscribe(job, phone, f"{push_service.origin}/p/phone")

    job.to(Status.EN_ROUTE)
    _work(uow_factory, topics)

    (push,) = push_service.received
    message = phone.open(push.body)
    assert message["title"] == f"{job.order.number} · 师傅正在路上"
    assert message["url"] == f"/t/{job.token}"  # a tap opens the tracking page
    assert str(job.order.id) not in str(message)  # no internal id reaches the phone
    assert push.headers["urgency"] == "high" and push.headers["ttl"] == "3600"
    claims = vapid_claims(push.headers["authorization"], key, audience=push_service.origin)
    assert claims["sub"] == SUBJECT


def test_the_message_speaks_the_language_of_the_page_it_was_subscribed_from(
    job: Job, uow_factory: UnitOfWorkFactory, push_service: PushService, topics: dict[str, Handler]
) -> None:
    job.to(Status.ON_SITE)
    job.share()
    _work(uow_factory, topics)
    laptop = BrowserKeys()
    _subscribe(job, laptop, f"{push_service.origin}/p/laptop", language="en")
    job.to(Status.COMPLETED)
    _work(uow_factory, topics)
    titles = [laptop.open(p.body)["title"] for p in push_service.received]
    assert titles == [f"{job.order.number} · Work done"]


def test_a_link_that_stopped_working_stops_the_pushes_and_drops_the_subscription(
    job: Job, uow_factory: UnitOfWorkFactory, push_service: PushService, topics: dict[str, Handler]
) -> None:
    job.to(Status.ACCEPTED)
    job.share()
    _subscribe(job, BrowserKeys(), f"{push_service.origin}/p/phone")
    job.admin.delete(f"/v1/work-orders/{job.order.id}/tracking-link")  # revoked
    job.to(Status.EN_ROUTE)
    _work(uow_factory, topics)
    assert push_service.received == []
    with uow_factory.reader() as uow:
        assert uow.session.scalars(select(TrackingPushSubscription)).all() == []


def test_a_gone_browser_is_dropped(
    job: Job, uow_factory: UnitOfWorkFactory, push_service: PushService, topics: dict[str, Handler]
) -> None:
    job.to(Status.ACCEPTED)
    job.share()
    _subscribe(job, BrowserKeys(), f"{push_service.origin}/p/old")
    push_service.answers["/p/old"].append(410)
    job.to(Status.EN_ROUTE)
    _work(uow_factory, topics)
    with uow_factory.reader() as uow:
        assert uow.session.scalars(select(TrackingPushSubscription)).all() == []


def test_a_link_reaches_only_its_own_orders_subscriptions(
    job: Job, client: ApiClient, factories: Factories, push_service: PushService
) -> None:
    job.share()
    mine = _subscribe(job, BrowserKeys(), f"{push_service.origin}/p/mine")
    other = factories.work_order(job.world, job.customer, job.site)
    shared = job.admin.post(f"/v1/work-orders/{other.id}/tracking-link").get_json()
    assert_problem(
        client.delete(f"/v1/tracking/{shared['token']}/push-subscriptions/{mine}"),
        404,
        "push.subscription_not_found",
    )
    assert client.delete(f"/v1/tracking/{job.token}/push-subscriptions/{mine}").status_code == 204


def test_a_subscription_needs_a_working_link_and_real_keys(
    job: Job, client: ApiClient, push_service: PushService
) -> None:
    body = BrowserKeys().subscription(f"{push_service.origin}/p/x")
    assert_problem(
        client.post(f"/v1/tracking/{'Z' * 32}/push-subscriptions", json=body),
        404,
        "tracking.link_not_found",
    )
    job.share()
    bad = {**body, "keys": {"p256dh": "AAAA", "auth": body["keys"]["auth"]}}
    assert_problem(
        client.post(f"/v1/tracking/{job.token}/push-subscriptions", json=bad),
        422,
        "request.validation_failed",
    )
    plain = BrowserKeys().subscription("http://push.example.com/x")
    assert_problem(
        client.post(f"/v1/tracking/{job.token}/push-subscriptions", json=plain),
        422,
        "push.endpoint_refused",
    )
    # The worker would POST to it: nothing on this server's own network.
    for inward in (
        "https://127.0.0.1/x",
        "https://localhost:5432/x",
        "https://10.0.0.5/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://[fd00::1]/x",
        "https://0.0.0.0/x",
    ):
        aimed = BrowserKeys().subscription(inward)
        assert_problem(
            client.post(f"/v1/tracking/{job.token}/push-subscriptions", json=aimed),
            422,
            "push.endpoint_refused",
        )


def test_an_order_takes_at_most_ten_browsers_and_a_resubscribe_still_works(
    job: Job, push_service: PushService, uow_factory: UnitOfWorkFactory
) -> None:
    job.share()
    browsers = [BrowserKeys() for _ in range(tracking_push.MAX_SUBSCRIPTIONS)]
    ids = [_subscribe(job, b, f"{push_service.origin}/p/{n}") for n, b in enumerate(browsers)]

    one_more = job.client.post(
        f"/v1/tracking/{job.token}/push-subscriptions",
        json=BrowserKeys().subscription(f"{push_service.origin}/p/more"),
    )
    assert_problem(one_more, 409, "push.too_many_subscriptions")
    assert one_more.get_json()["max_subscriptions"] == 10
    # A browser already subscribed renews its keys; one that leaves makes room.
    assert _subscribe(job, browsers[0], f"{push_service.origin}/p/0") == ids[0]
    assert (
        job.client.delete(f"/v1/tracking/{job.token}/push-subscriptions/{ids[1]}").status_code
        == 204
    )
    _subscribe(job, BrowserKeys(), f"{push_service.origin}/p/more")
    with uow_factory.reader() as uow:
        held = uow.session.scalars(select(TrackingPushSubscription.id)).all()
    assert len(held) == tracking_push.MAX_SUBSCRIPTIONS
    # A new link (the old one revoked) has room at once: the old link's subscriptions
    # no longer count, and go at their next delivery.
    job.admin.delete(f"/v1/work-orders/{job.order.id}/tracking-link")
    job.share()
    _subscribe(job, BrowserKeys(), f"{push_service.origin}/p/new-link")


def test_an_endpoint_that_leads_to_this_servers_network_is_never_posted_to(
    job: Job, uow_factory: UnitOfWorkFactory, push_service: PushService
) -> None:
    # Subscribed while its name pointed outward; by the time of the push the name leads
    # here (DNS changed, or rebinding). The worker's guard checks where it connects.
    job.to(Status.ACCEPTED)
    job.share()
    _subscribe(job, BrowserKeys(), f"{push_service.origin}/p/phone")
    guarded = [WebPushNotifier(SECRET, SUBJECT, ttl_seconds=3600)]  # no loopback allowed
    job.to(Status.EN_ROUTE)
    _work(uow_factory, {**HANDLERS, **tracking_push.handlers(guarded)})

    assert push_service.received == []
    with uow_factory.reader() as uow:  # dropped, not retried
        assert uow.session.scalars(select(TrackingPushSubscription)).all() == []
