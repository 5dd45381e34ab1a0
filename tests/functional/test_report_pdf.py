"""The office fetches the sealed job's PDF service report: rendered by the worker in the
tenant's language with the photos, the signature, the seal and the verify QR code, and
in English on request. Text is checked as a reader extracts it, in both languages."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from api.config import Config
from api.db import UnitOfWorkFactory
from api.workorders.states import Status
from sync_protocol.mutations import Position, RecordPart, SignOff, SignOffOutcome
from tests.functional.test_signoff import CONSENT, DRAWING
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.photos import PhotoJob, camera_jpeg, run_worker
from tests.support.push import new_id


def _text(pdf: bytes) -> str:
    """The text as pypdf extracts it, without whitespace. pypdf reads fpdf2's ToUnicode
    map of a CID font as UTF-16 and leaves a NUL before each character (PDFium, Chrome's
    reader, extracts the same file cleanly), so NULs go too."""
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    return re.sub(r"[\s\x00]+", "", text)


def _images(pdf: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_sealed_report_pdf_is_rendered_by_the_worker_in_both_languages(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    job = PhotoJob.start(client, factories)
    job.attach(camera_jpeg(color=(200, 40, 30)), caption="阀门")
    job.attach(camera_jpeg(color=(20, 140, 30)), caption="Gauge")
    device = job.device
    device.push_ok(
        [
            device.mutation(
                RecordPart(new_id(), job.order_id, "Valve seal 阀门密封圈", "2", "pcs")
            ),
            device.mutation(
                SignOff(
                    new_id(),
                    job.order_id,
                    SignOffOutcome.SIGNED,
                    "王芳",
                    "site manager",
                    CONSENT,
                    None,
                    DRAWING,
                    Position(31.2304, 121.4737, 6.0),
                )
            ),
        ]
    )
    world = job.scene.world
    order = factories.transition(world, job.order_id, "accept")
    factories.advance(world, order, Status.COMPLETED, job.scene.technician)
    run_worker(uow_factory, config)  # the photos' thumbnails
    office = client.as_(job.scene.dispatcher_token)
    sealed = office.post(f"/v1/work-orders/{job.order_id}/reports", json={})
    assert sealed.status_code == 201, sealed.get_json()
    report = sealed.get_json()
    url = f"/v1/reports/{report['id']}/pdf"
    assert_problem(office.get(url), 409, "report.pdf_not_ready")

    assert run_worker(uow_factory, config) >= 1
    stored = office.get(url)
    assert stored.status_code == 200 and stored.mimetype == "application/pdf"
    pdf_sha = office.get(f"/v1/reports/{report['id']}").get_json()["pdf_sha256"]
    assert stored.headers["ETag"] == f'"{pdf_sha}"'
    text = _text(stored.data)
    number = office.get(f"/v1/work-orders/{job.order_id}").get_json()["number"]
    for expected in ("服务报告", number, "使用配件", "阀门密封圈", "客户签名", "王芳", "电子封印"):
        assert expected in text, expected
    assert report["seal"]["sha256"] in text
    assert f"/v/{report['verification_path'].split('/')[2]}" in text  # the QR's address
    assert _images(stored.data) >= 4  # two photos, the signature, the QR code

    english = office.get(url, query_string={"language": "en"})
    assert english.status_code == 200
    text_en = _text(english.data)
    for expected in ("Servicereport", "Partsused", "Customersignature", "Valveseal", number):
        assert expected in text_en, expected


def test_a_refusal_is_printed_with_its_reason(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    scene = factories.scene()
    order = factories.work_order(scene.world, scene.customer, scene.site)
    order = factories.advance(scene.world, order, Status.IN_PROGRESS, scene.technician)
    tech = client.as_(scene.technician_token)
    refused = tech.post(
        f"/v1/work-orders/{order.id}/sign-off",
        json={"outcome": "refused", "signer_name": "Li Wei 李琤", "refusal_reason": "Not finished"},
    )
    assert refused.status_code == 201
    factories.advance(scene.world, order, Status.COMPLETED, scene.technician)
    office = client.as_(scene.dispatcher_token)
    sealed = office.post(f"/v1/work-orders/{order.id}/reports", json={}).get_json()
    run_worker(uow_factory, config)
    pdf = office.get(f"/v1/reports/{sealed['id']}/pdf", query_string={"language": "en"})
    text = _text(pdf.data)
    assert "Thecustomerdeclinedtosign.Reason:Notfinished" in text
    assert "LiWei李琤" in text  # outside GB 2312: set with the whole font
