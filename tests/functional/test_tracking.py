"""The customer's tracking link: a public, expiring, parcel-style view of one order."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, update

from api.config import Config
from api.db import UnitOfWorkFactory, utcnow
from api.http.ratelimit import RateLimiter
from api.ratelimits.storage import DatabaseStorage
from api.tracking.models import TrackingLink
from api.workorders.models import WorkOrder
from api.workorders.states import Status
from tests.functional.test_repair_requests import _form as repair_form
from tests.functional.test_repair_requests import _post as repair_post
from tests.functional.test_repair_requests import _token as label_token
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.photos import run_worker
from tests.support.positions import ALWAYS, Tracked, fix

PHONE = "13812345678"


class Job:
    """An order at People's Square for 张伟 (Wei Zhang), whose device reports positions."""

    def __init__(self, client: ApiClient, factories: Factories, engine: Engine) -> None:
        self.client, self.factories, self.engine = client, factories, engine
        self.tracked = Tracked(
            client, factories, engine, working_hours=ALWAYS, name="张伟", name_en="Wei Zhang",
            phone=PHONE,
        )  # fmt: skip
        self.world = self.tracked.world
        self.customer = factories.customer(self.world)
        self.site = factories.site(
            self.world, self.customer, address="黄浦区人民大道200号", city="上海"
        )
        self.order = factories.work_order(self.world, self.customer, self.site)
        self.admin = client.as_(self.world.admin_token)
        self.token = ""

    def to(self, status: Status) -> None:
        self.order = self.factories.advance(self.world, self.order, status, self.tracked.technician)

    def share(self, api: ApiClient | None = None) -> dict[str, Any]:
        response = (api or self.admin).post(f"/v1/work-orders/{self.order.id}/tracking-link")
        assert response.status_code == 201, response.get_json()
        body: dict[str, Any] = response.get_json()
        self.token = body["token"]
        return body

    def view(self, token: str | None = None, **kw: Any) -> Any:
        return self.client.get(f"/v1/tracking/{token or self.token}", **kw)

    def page(self, **kw: Any) -> dict[str, Any]:
        response = self.view(**kw)
        assert response.status_code == 200, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    def rate(self, body: dict[str, Any], token: str | None = None) -> Any:
        return self.client.post(f"/v1/tracking/{token or self.token}/rating", json=body)


@pytest.fixture
def job(client: ApiClient, factories: Factories, engine: Engine) -> Job:
    return Job(client, factories, engine)


def _steps(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["key"]: step for step in page["steps"]}


def test_the_link_opens_a_timeline_without_an_account(job: Job) -> None:
    shared = job.share()
    assert shared["url"].endswith(f"/t/{shared['token']}")
    assert len(shared["token"]) >= 32

    page = job.page(query_string={"lang": "en"})
    assert [s["key"] for s in page["steps"]] == [
        "received", "scheduled", "technician_assigned", "on_the_way", "arrived",
        "work_done", "report_ready", "rated",
    ]  # fmt: skip
    assert page["current_step"] == "received"
    assert _steps(page)["received"]["done"] and _steps(page)["received"]["occurred_at"]
    assert not _steps(page)["technician_assigned"]["done"]
    assert page["technician"] is None and page["position"] is None
    assert page["site"] == {"city": "上海"}
    assert page["reference"] == job.order.number


def test_each_step_carries_the_time_the_order_reached_it(job: Job) -> None:
    job.to(Status.ON_SITE)
    job.factories.backdate(job.order.id, timedelta(minutes=40))
    job.share()
    page = job.page()
    history = job.admin.get(f"/v1/work-orders/{job.order.id}/history").get_json()["items"]
    reached = {row["to_status"]: row["occurred_at"] for row in history}
    steps = _steps(page)
    assert steps["technician_assigned"]["occurred_at"] == reached["assigned"]
    assert steps["on_the_way"]["occurred_at"] == reached["en_route"]
    assert steps["arrived"]["occurred_at"] == reached["on_site"]
    assert steps["received"]["occurred_at"] == history[0]["occurred_at"]
    done = [s["done"] for s in page["steps"]]
    assert done == [True, False, True, True, True, False, False, False]
    assert page["current_step"] == "arrived"


def test_the_page_names_the_technician_as_customers_address_them_and_leaks_nothing_else(
    job: Job,
) -> None:
    other = job.factories.work_order(job.world, job.customer, job.site)
    job.to(Status.ACCEPTED)
    job.share()
    zh = job.page(query_string={"lang": "zh-CN"})
    en = job.page(headers={"Accept-Language": "en"})
    assert zh["technician"] == {"name": "张师傅", "photo_url": None}
    assert en["technician"]["name"] == "Wei"
    assert _steps(zh)["technician_assigned"]["title"] == "已安排师傅"
    assert _steps(en)["technician_assigned"]["title"] == "Technician assigned"
    text = json.dumps([zh, en], ensure_ascii=False)
    secrets = [
        "张伟", "伟", "Zhang", PHONE, "人民大道", str(job.world.tenant_id), str(job.order.id),
        str(job.tracked.technician.id), str(job.customer.id), str(job.site.id),
        str(other.id), other.number,
    ]  # fmt: skip
    assert [s for s in secrets if s in text] == []


def test_the_position_and_eta_show_only_while_the_technician_is_on_the_way(job: Job) -> None:
    job.to(Status.ACCEPTED)
    job.share()
    job.tracked.send(fix(50, 3000))
    assert job.page()["position"] is None  # not set off yet: their day is their own

    job.to(Status.EN_ROUTE)
    job.factories.backdate(job.order.id, timedelta(minutes=30))
    assert job.page()["position"] is None  # no fix since setting off
    job.tracked.send(fix(1, 3000))
    page = job.page()
    assert page["position"]["lon"] == pytest.approx(fix(1, 3000)["lon"])
    assert page["eta"]["distance_m"] == pytest.approx(3000, rel=0.02)
    # 3 km × 1.3 detour at 25 km/h is 9.4 minutes: rounded up to 10.
    assert page["eta"]["seconds"] == 600

    job.to(Status.COMPLETED)
    done = job.page()
    assert done["position"] is None and done["eta"] is None


def test_rotating_and_revoking_a_link_make_the_old_one_a_404(job: Job) -> None:
    first = job.share()["token"]
    second = job.share()["token"]
    assert first != second
    assert_problem(job.view(first), 404, "tracking.link_not_found")
    assert job.view(second).status_code == 200
    current = job.admin.get(f"/v1/work-orders/{job.order.id}/tracking-link").get_json()
    assert current["token"] == second

    assert job.admin.delete(f"/v1/work-orders/{job.order.id}/tracking-link").status_code == 204
    assert_problem(job.view(second), 404, "tracking.link_not_found")
    assert_problem(
        job.admin.get(f"/v1/work-orders/{job.order.id}/tracking-link"), 404, "tracking.no_link"
    )
    assert_problem(job.view("not-a-token-anyone-made"), 404, "tracking.link_not_found")

    events = job.admin.get(
        "/v1/audit-events", query_string={"entity_type": "tracking_link", "limit": 10}
    ).get_json()["items"]
    assert sorted(e["action"] for e in events) == ["create", "create", "revoke", "revoke"]
    assert not [e for e in events if first in str(e) or second in str(e)]  # never the token


def test_a_link_expires_after_its_lifetime_or_two_weeks_after_the_work_is_done(
    job: Job, engine: Engine
) -> None:
    shared = job.share()
    assert shared["expires_at"] > (utcnow() + timedelta(days=29)).isoformat()
    with engine.begin() as connection:
        connection.execute(update(TrackingLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert_problem(job.view(), 404, "tracking.link_not_found")

    job.share()
    job.to(Status.COMPLETED)
    assert job.view().status_code == 200
    with engine.begin() as connection:
        connection.execute(
            update(WorkOrder)
            .where(WorkOrder.id == job.order.id)
            .values(completed_at=utcnow() - timedelta(days=15))
        )
    assert_problem(job.view(), 404, "tracking.link_not_found")


def test_the_customer_contact_shares_their_own_order_but_not_another_customers(
    job: Job, client: ApiClient
) -> None:
    _, own = job.factories.customer_login(job.world, job.customer)
    assert job.share(client.as_(own))["token"]
    stranger = job.factories.customer(job.world)
    _, theirs = job.factories.customer_login(job.world, stranger)
    refused = client.as_(theirs).post(f"/v1/work-orders/{job.order.id}/tracking-link")
    assert_problem(refused, 404, "work_order.not_found")
    technician = client.as_(job.tracked.api.token)
    job.to(Status.ASSIGNED)
    assert technician.post(f"/v1/work-orders/{job.order.id}/tracking-link").status_code == 403


def test_the_customer_rates_finished_work_once_and_the_office_reads_it(job: Job) -> None:
    job.to(Status.IN_PROGRESS)
    job.share()
    assert_problem(job.rate({"score": 5}), 409, "tracking.not_completed")
    assert job.page()["can_rate"] is False

    job.to(Status.COMPLETED)
    assert job.page()["can_rate"] is True
    assert_problem(job.rate({"score": 6}), 422, "request.validation_failed")
    assert_problem(job.rate({"score": 4, "comment": "长" * 1001}), 422, "request.validation_failed")
    rated = job.rate({"score": 4, "comment": "师傅很专业"})
    assert rated.status_code == 201, rated.get_json()
    assert_problem(job.rate({"score": 1}), 409, "tracking.already_rated")

    page = job.page()
    assert page["rating"]["score"] == 4 and page["can_rate"] is False
    assert _steps(page)["rated"] == {
        "key": "rated", "title": _steps(page)["rated"]["title"], "done": True,
        "occurred_at": rated.get_json()["rated_at"],
    }  # fmt: skip
    office = job.admin.get(f"/v1/work-orders/{job.order.id}/rating").get_json()
    assert (office["score"], office["comment"]) == (4, "师傅很专业")


def test_an_unrated_order_says_so_to_the_office(job: Job) -> None:
    assert_problem(
        job.admin.get(f"/v1/work-orders/{job.order.id}/rating"), 404, "tracking.not_rated"
    )


def test_a_sealed_report_appears_with_its_public_verification_and_pdf(
    job: Job, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    job.to(Status.COMPLETED)
    job.share()
    assert job.page()["report"] is None
    pdf_path = f"/v1/tracking/{job.token}/report/pdf"
    assert_problem(job.client.get(pdf_path), 404, "tracking.no_report")
    sealed = job.admin.post(f"/v1/work-orders/{job.order.id}/reports", json={})
    assert sealed.status_code == 201, sealed.get_json()
    page = job.page()
    report = page["report"]
    assert report["version"] == 1 and report["sha256"] == sealed.get_json()["seal"]["sha256"]
    assert _steps(page)["report_ready"]["occurred_at"] == report["sealed_at"]
    assert report["verification_url"].endswith(sealed.get_json()["verification_path"])
    verification = job.client.get(sealed.get_json()["verification_path"])
    assert verification.get_json()["valid"] is True
    assert sealed.get_json()["id"] not in json.dumps(page)

    assert_problem(job.client.get(pdf_path), 409, "report.pdf_not_ready")
    assert run_worker(uow_factory, config) >= 1  # the worker renders the PDF
    assert job.page()["report"]["pdf_ready"] is True
    pdf = job.client.get(pdf_path)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")


def test_the_public_endpoints_are_limited_per_link_and_per_address(
    job: Job, app: Flask, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    limiter = RateLimiter(DatabaseStorage(engine), "3/minute", "tracking-test")
    monkeypatch.setitem(app.extensions, "fieldline_tracking_limiter", limiter)
    job.share()
    for _ in range(3):
        assert job.view(environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code == 200
    over_link = job.view(environ_base={"REMOTE_ADDR": "198.51.100.2"})
    assert_problem(over_link, 429, "request.rate_limited")
    assert int(over_link.headers["Retry-After"]) > 0
    guessing = job.view("g" * 32, environ_base={"REMOTE_ADDR": "198.51.100.1"})
    assert_problem(guessing, 429, "request.rate_limited")


def test_a_repair_request_from_a_label_is_confirmed_with_its_tracking_link(
    client: ApiClient, factories: Factories
) -> None:
    world = factories.tenant()
    asset = factories.asset(world, factories.site(world, factories.customer(world)))
    sent = repair_post(client, label_token(factories, asset), repair_form())
    assert sent.status_code == 201, sent.get_json()
    confirmed = sent.get_json()
    token = confirmed["tracking_url"].rsplit("/t/", 1)[1]
    page = client.get(f"/v1/tracking/{token}", query_string={"lang": "en"}).get_json()
    assert page["reference"] == confirmed["reference"]
    assert page["current_step"] == "received"


def test_a_retried_share_with_the_same_idempotency_key_does_not_rotate(job: Job) -> None:
    path = f"/v1/work-orders/{job.order.id}/tracking-link"
    headers = {"Idempotency-Key": "share-1"}
    first = job.admin.post(path, headers=headers)
    again = job.admin.post(path, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["token"] == first.get_json()["token"]
    assert job.view(first.get_json()["token"]).status_code == 200
