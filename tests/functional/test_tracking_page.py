"""The customer's tracking page ``/t/<token>``: what a person sees on their phone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import Engine, update

from api.tracking.models import TrackingLink
from api.workorders.states import Status
from tests.functional.test_tracking import Job
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.positions import fix


@pytest.fixture
def job(client: ApiClient, factories: Factories, engine: Engine) -> Job:
    return Job(client, factories, engine)


def _open(job: Job, language: str = "en", token: str | None = None) -> tuple[int, str]:
    response = job.client.get(f"/t/{token or job.token}", headers={"Accept-Language": language})
    return response.status_code, response.get_data(as_text=True)


def test_a_new_order_shows_its_timeline_in_the_browsers_language(job: Job) -> None:
    job.share()
    status, page = _open(job, "zh-CN")
    assert status == 200
    assert '<html lang="zh-CN">' in page
    assert job.order.number in page
    assert "已受理" in page and "师傅正在路上" in page
    assert 'aria-current="step"' in page
    assert 'id="map"' not in page  # no position before the technician sets off
    status, english = _open(job, "en")
    assert "Order received" in english and "On the way" in english


def test_while_on_the_way_the_page_shows_the_eta_the_map_and_no_full_name(
    job: Job,
) -> None:
    job.to(Status.EN_ROUTE)
    job.factories.backdate(job.order.id, timedelta(minutes=30))
    job.share()
    job.tracked.send(fix(1, 3000))
    _, page = _open(job, "en")
    assert "Wei is on the way" in page
    assert "Zhang" not in page and "张" not in page
    assert "About 10 min" in page  # 3 km by the straight-line estimate
    lat = re.search(r'data-lat="([^"]+)"', page)
    assert lat is not None and float(lat.group(1)) == pytest.approx(fix(1, 3000)["lat"])
    assert 'data-refresh-ms="15000"' in page
    assert "/tracking/live.js" in page and "/vendor/leaflet.js" in page
    _, chinese = _open(job, "zh-CN")
    assert "张师傅正在路上" in chinese and "张伟" not in chinese and "伟" not in chinese


def test_nothing_is_live_once_the_work_is_done(job: Job) -> None:
    job.to(Status.EN_ROUTE)
    job.factories.backdate(job.order.id, timedelta(minutes=30))
    job.share()
    job.tracked.send(fix(1, 3000))
    job.to(Status.COMPLETED)
    _, page = _open(job)
    assert 'id="map"' not in page and "data-refresh-ms" not in page
    assert "live.js" not in page and "leaflet" not in page
    assert 'action="/t/' in page  # the rating form instead


def test_a_sealed_report_links_its_pdf_and_its_seal_check(job: Job) -> None:
    job.to(Status.COMPLETED)
    job.share()
    sealed = job.admin.post(f"/v1/work-orders/{job.order.id}/reports", json={}).get_json()
    _, page = _open(job)
    report_token = sealed["verification_path"].split("/")[2]
    assert f"/v/{report_token}" in page
    assert f"/v1/tracking/{job.token}/report/pdf" not in page  # not rendered yet
    assert "The PDF is being prepared" in page


def test_the_customer_rates_from_the_page_and_sees_their_rating(job: Job) -> None:
    job.to(Status.COMPLETED)
    job.share()
    missing = job.client.post(f"/t/{job.token}/rating", data={"comment": "好"})
    assert missing.status_code == 422
    assert 'id="score-error"' in missing.get_data(as_text=True)
    assert "好</textarea>" in missing.get_data(as_text=True)  # what they wrote is kept
    too_long = job.client.post(
        f"/t/{job.token}/rating", data={"score": "5", "comment": "长" * 1001}
    )
    assert too_long.status_code == 422 and 'id="comment-error"' in too_long.get_data(as_text=True)

    sent = job.client.post(f"/t/{job.token}/rating", data={"score": "4", "comment": "师傅很专业"})
    assert sent.status_code == 303 and sent.headers["Location"] == f"/t/{job.token}#rating"
    _, page = _open(job)
    assert "4 out of 5" in page and "师傅很专业" in page and 'name="score"' not in page
    again = job.client.post(f"/t/{job.token}/rating", data={"score": "1"})
    assert again.status_code == 409


def test_customer_text_is_shown_as_text_never_as_markup(job: Job) -> None:
    job.to(Status.COMPLETED)
    job.share()
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    job.client.post(f"/t/{job.token}/rating", data={"score": "3", "comment": attack})
    _, page = _open(job)
    assert attack not in page
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    )


def test_an_unknown_link_is_a_friendly_404_page_and_an_ended_one_a_410(
    job: Job, engine: Engine
) -> None:
    status, page = _open(job, "en", token="Z" * 32)
    assert status == 404 and "Tracking link not found" in page and "<html" in page
    status, _ = _open(job, "en", token="not-even-a-token")
    assert status == 404
    first = job.share()["token"]
    job.share()  # rotated: the first link ends
    status, page = _open(job, "zh-CN", token=first)
    assert status == 410 and "跟踪链接已失效" in page
    with engine.begin() as connection:
        connection.execute(update(TrackingLink).values(expires_at=TrackingLink.created_at))
    status, page = _open(job, "en")
    assert status == 410 and "This tracking link has ended" in page


def test_a_link_shows_its_own_order_and_nothing_of_another(job: Job, factories: Factories) -> None:
    other = factories.work_order(job.world, job.customer, job.site, title="另一张工单的标题")
    job.share()
    _, page = _open(job)
    assert job.order.number in page and job.order.title in page
    assert other.number not in page and "另一张工单的标题" not in page
    assert str(job.order.id) not in page and str(job.site.id) not in page


def test_the_tracking_page_is_never_cached_and_sends_no_referrer(job: Job) -> None:
    job.share()
    response = job.client.get(f"/t/{job.token}")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
