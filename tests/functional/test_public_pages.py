"""The public pages behind printed QR codes: a service report's seal check ``/v/<token>``
and an asset label's repair request ``/r/<token>`` (报修)."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.assets.models import Asset
from api.signoff.models import SealedReport
from api.workorders.models import WorkOrder
from api.workorders.states import Status
from tests.functional.test_repair_requests import _token as label_token
from tests.functional.test_tracking import Job
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.images import jpeg


@pytest.fixture
def job(client: ApiClient, factories: Factories, engine: Engine) -> Job:
    return Job(client, factories, engine)


def _sealed(job: Job, **body: str) -> dict[str, str]:
    response = job.admin.post(f"/v1/work-orders/{job.order.id}/reports", json=body)
    assert response.status_code == 201, response.get_json()
    sealed: dict[str, str] = response.get_json()
    return sealed


def _page_of(sealed: dict[str, str]) -> str:
    return sealed["verification_path"].removesuffix("/verification")  # what the PDF's QR holds


def _get(client: ApiClient, path: str, language: str = "en") -> tuple[int, str]:
    response = client.get(path, headers={"Accept-Language": language})
    return response.status_code, response.get_data(as_text=True)


def test_the_reports_qr_code_opens_a_page_saying_it_is_valid(job: Job) -> None:
    job.to(Status.COMPLETED)
    sealed = _sealed(job)
    status, page = _get(job.client, _page_of(sealed), "zh-CN")
    assert status == 200 and '<html lang="zh-CN">' in page
    assert "有效" in page and job.order.number in page and sealed["seal"]["sha256"] in page
    status, english = _get(job.client, _page_of(sealed))
    assert "Valid: this report is exactly as it was sealed" in english
    # The JSON check for programs stays where it was.
    assert job.client.get(sealed["verification_path"]).get_json()["valid"] is True


def test_an_amended_report_says_a_newer_version_replaces_it(job: Job) -> None:
    job.to(Status.COMPLETED)
    first = _sealed(job)
    _sealed(job, reason="补记更换的零件")
    _, page = _get(job.client, _page_of(first))
    assert "Amended: a newer version replaces this report" in page
    _, chinese = _get(job.client, _page_of(first), "zh-CN")
    assert "已修订" in chinese


def test_a_report_changed_after_sealing_is_shown_as_not_valid(job: Job, engine: Engine) -> None:
    job.to(Status.COMPLETED)
    sealed = _sealed(job)
    with Session(engine) as session, session.begin():
        row = session.get_one(SealedReport, uuid.UUID(sealed["id"]))
        row.report = row.report.replace(job.order.number, "WO-999999")
    status, page = _get(job.client, _page_of(sealed))
    assert status == 200 and "Not valid: this report does not match its seal" in page
    _, chinese = _get(job.client, _page_of(sealed), "zh-CN")
    assert "无效" in chinese


def test_an_unknown_report_token_is_a_404_page(client: ApiClient) -> None:
    status, page = _get(client, "/v/not-a-report-token")
    assert status == 404 and "<html" in page


def _asset(factories: Factories) -> tuple[Asset, str]:
    world = factories.tenant()
    customer = factories.customer(world, name="上海中心大厦物业")
    site = factories.site(world, customer, name="中心大厦 B2 机房")
    asset = factories.asset(world, site, name="3 号冷水机组")
    return asset, label_token(factories, asset)


def _send(client: ApiClient, token: str, data: dict[str, object]):
    return client.post(
        f"/r/{token}",
        data=data,
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )


def test_a_label_opens_the_repair_form_with_the_asset_site_and_customer_filled_in(
    client: ApiClient, factories: Factories
) -> None:
    _, token = _asset(factories)
    status, page = _get(client, f"/r/{token}", "zh-CN")
    assert status == 200
    assert "3 号冷水机组" in page and "中心大厦 B2 机房" in page and "上海中心大厦物业" in page
    assert f'action="/r/{token}"' in page and 'enctype="multipart/form-data"' in page
    # The asset API the page replaced for people is still there for programs.
    assert client.get(f"/r/{token}/asset").get_json()["name"] == "3 号冷水机组"


def test_a_repair_request_from_the_page_confirms_with_the_tracking_link(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    asset, token = _asset(factories)
    sent = _send(
        client,
        token,
        {
            "description": "机组报警 E07，不制冷",
            "contact_name": "李先生",
            "contact_phone": "138 0013 8000",
            "photos": [(io.BytesIO(jpeg("alarm")), "alarm.jpg")],
        },
    )
    page = sent.get_data(as_text=True)
    assert sent.status_code == 201, page
    tracking = re.search(r'href="(http://[^"]+/t/([A-Za-z0-9_-]{32}))"', page)
    assert tracking is not None
    with Session(engine) as session:
        order = session.scalars(select(WorkOrder).where(WorkOrder.site_id == asset.site_id)).one()
    assert order.number in page
    assert client.get(f"/t/{tracking.group(2)}").status_code == 200


def test_a_form_with_mistakes_comes_back_with_what_to_fix_and_what_was_typed(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    _, token = _asset(factories)
    sent = _send(client, token, {"description": "漏水", "contact_phone": "not a phone"})
    page = sent.get_data(as_text=True)
    assert sent.status_code == 422
    assert 'id="contact_name-error"' in page and 'id="contact_phone-error"' in page
    assert 'id="description-error"' not in page and ">漏水</textarea>" in page
    with Session(engine) as session:
        assert session.scalars(select(WorkOrder)).all() == []
    bad_photo = _send(
        client,
        token,
        {
            "description": "漏水",
            "contact_name": "李先生",
            "contact_phone": "13800138000",
            "photos": [(io.BytesIO(b"<html>not a photo</html>"), "a.jpg")],
        },
    )
    assert bad_photo.status_code == 422 and 'id="photos-error"' in bad_photo.get_data(as_text=True)
    photos = [(io.BytesIO(jpeg(f"p{n}")), f"p{n}.jpg") for n in range(4)]
    too_many = _send(
        client,
        token,
        {
            "description": "漏水",
            "contact_name": "李",
            "contact_phone": "13800138000",
            "photos": photos,
        },
    )
    assert too_many.status_code == 422 and 'id="photos-error"' in too_many.get_data(as_text=True)
    with Session(engine) as session:
        assert session.scalars(select(WorkOrder)).all() == []


def test_what_a_visitor_types_is_shown_back_as_text(
    client: ApiClient, factories: Factories
) -> None:
    _, token = _asset(factories)
    attack = '"><script>alert(1)</script>'
    sent = _send(client, token, {"description": attack, "contact_name": attack})
    page = sent.get_data(as_text=True)
    assert sent.status_code == 422
    assert "<script>alert(1)</script>" not in page
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_replaced_label_is_a_404_page(client: ApiClient) -> None:
    status, page = _get(client, f"/r/{'x' * 32}")
    assert status == 404 and "<html" in page
