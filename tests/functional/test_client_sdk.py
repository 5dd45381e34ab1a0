"""The client SDK against the real Flask app (``httpx.WSGITransport``, no server process):
a device primes its replica with matching checksums, does a whole job offline (§ 16.1),
and survives a push whose response was lost (§ 16.2) without applying anything twice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import func, select

from api.categories.models import Category
from api.db import UnitOfWorkFactory
from api.evidence.models import Photo
from api.location.models import Position
from api.signoff.models import WorkOrderSignOff
from api.workorders.models import Note, StatusChange, WorkOrder
from client_sdk.device import Device
from client_sdk.errors import NetworkError
from client_sdk.sync import Callbacks
from client_sdk.uploads import PIECE_BYTES
from sync_protocol.messages import Receipt
from tests.support.factories import Factories
from tests.support.factories.core import PASSWORD
from tests.support.images import jpeg, noise_jpeg
from tests.support.positions import ALWAYS

SERVER = "http://fieldline.test"


class Flaky(httpx.BaseTransport):
    """The real app behind a link that can drop: before the request, or after the answer."""

    def __init__(self, app: Flask) -> None:
        self.inner = httpx.WSGITransport(app=app)
        self.offline = False
        self.lose_answer_of: str | None = None  # a path whose next answer is lost

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.offline:
            raise httpx.ConnectError("no signal", request=request)
        response = self.inner.handle_request(request)
        if request.url.path == self.lose_answer_of:
            self.lose_answer_of = None
            response.read()
            raise httpx.ReadError("signal lost before the answer arrived", request=request)
        return response


@pytest.fixture
def link(app: Flask) -> Flaky:
    return Flaky(app)


@pytest.fixture
def job(factories: Factories) -> dict[str, Any]:
    scene = factories.scene()
    technician, user, _ = factories.technician_user(scene.world)
    order = factories.work_order(scene.world, scene.customer, scene.site)
    factories.transition(scene.world, order, "assign", assignee_id=technician.id)
    return {"world": scene.world, "email": user.email, "order": str(order.id), "tech": technician}


@pytest.fixture
def device(tmp_path: Path, link: Flaky, job: dict[str, Any]) -> Iterator[Device]:
    device = Device(tmp_path / "phone", transport=link)
    device.login(SERVER, job["world"].slug, job["email"], PASSWORD)
    yield device
    device.close()


def _offline_job(device: Device, order: str, photo: Path) -> None:
    device.transition(order, "accept")
    device.transition(order, "start_travel")
    device.transition(order, "arrive")
    device.transition(order, "start_work")
    device.record_reading(order, "pressure", "3.4", "bar")
    device.record_part(order, "Valve seal", "2", "pcs")
    device.attach_photo(order, photo)
    device.add_note(order, "Replaced both seals; pressure stable")
    device.transition(order, "complete", resolution="Seals replaced")


def _count(uow_factory: UnitOfWorkFactory, query: Any) -> int:
    with uow_factory.reader() as uow:
        return int(uow.session.scalar(query) or 0)


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "valve.jpg"
    path.write_bytes(jpeg("the valve seal"))
    return path


def test_a_device_primes_its_replica_and_reads_its_jobs_offline(
    device: Device, link: Flaky, job: dict[str, Any]
) -> None:
    report = device.sync()

    assert report.repaired == []  # every scope's checksum matched the checkpoint
    link.offline = True
    jobs = device.jobs()
    assert [(v.id, v.status.value if v.status else None) for v in jobs] == [
        (job["order"], "assigned")
    ]
    assert device.status()["technician_id"] == str(job["tech"].id)


def test_a_whole_offline_job_is_applied_once_and_pulled_back_completed(
    device: Device, link: Flaky, job: dict[str, Any], photo: Path, uow_factory: UnitOfWorkFactory
) -> None:
    order = job["order"]
    device.sync()
    link.offline = True
    _offline_job(device, order, photo)
    shown = device.job(order)
    assert shown.status is not None and shown.status.value == "completed"
    assert len(shown.evidence.visible()) == 4
    with pytest.raises(NetworkError):
        device.sync()

    link.offline = False
    report = device.sync()

    assert report.receipts == {"applied": 9}
    assert report.repaired == []
    order_id = uuid.UUID(order)
    with uow_factory.reader() as uow:
        stored = uow.session.get(WorkOrder, order_id)
        assert stored is not None and stored.status.value == "completed"
        assert stored.resolution == "Seals replaced"
    completions = select(func.count()).where(
        StatusChange.work_order_id == order_id, StatusChange.action == "complete"
    )
    assert _count(uow_factory, completions) == 1
    view = device.job(order)  # now the server's image, pulled back
    assert view.pending == 0
    assert view.status is not None and view.status.value == "completed"
    assert view.row is not None and view.row["resolution"] == "Seals replaced"
    assert sorted(i.kind.value for i in view.evidence.visible()) == sorted(
        i.kind.value for i in shown.evidence.visible()
    )
    assert report.uploads.uploaded == 1 and device.status()["pending_uploads"] == 0


def test_a_push_whose_answer_was_lost_is_resent_and_applies_nothing_twice(
    device: Device, link: Flaky, job: dict[str, Any], uow_factory: UnitOfWorkFactory
) -> None:
    order = job["order"]
    device.sync()
    device.transition(order, "accept")
    device.add_note(order, "On my way")
    link.lose_answer_of = "/v1/sync/push"

    with pytest.raises(NetworkError):
        device.sync()
    assert device.outbox.report().pending == 2  # committed on the server, unknown here

    report = device.sync()

    assert report.receipts == {"applied": 2}  # the stored receipts, verbatim
    order_id = uuid.UUID(order)
    notes = select(func.count()).where(Note.work_order_id == order_id)
    accepts = select(func.count()).where(
        StatusChange.work_order_id == order_id, StatusChange.action == "accept"
    )
    assert (_count(uow_factory, notes), _count(uow_factory, accepts)) == (1, 1)
    assert device.outbox.report().pending == 0
    assert device.job(order).status is not None
    assert device.job(order).status.value == "accepted"  # type: ignore[union-attr]


def test_a_completion_after_the_office_cancelled_is_a_conflict_the_device_is_told_about(
    tmp_path: Path, link: Flaky, job: dict[str, Any], factories: Factories
) -> None:
    """§ 16.3: complete vs cancel never overwrites silently; the device hears of it."""
    conflicts: list[Receipt] = []
    device = Device(
        tmp_path / "phone",
        transport=link,
        callbacks=Callbacks(on_conflict=lambda mutation, receipt: conflicts.append(receipt)),
    )
    device.login(SERVER, job["world"].slug, job["email"], PASSWORD)
    order = job["order"]
    device.sync()
    for action in ("accept", "start_travel", "arrive", "start_work"):
        device.transition(order, action)
    device.sync()
    factories.transition(job["world"], uuid.UUID(order), "cancel", reason="Customer called")
    device.transition(order, "complete", resolution="Done anyway")  # still offline-ish: not pulled

    report = device.sync()

    assert report.receipts == {"conflict": 1}
    assert [(r.code, len(r.conflict_ids)) for r in conflicts] == [("sync.concurrent_status", 1)]
    assert device.job(order).status is not None
    assert device.job(order).status.value == "cancelled"  # type: ignore[union-attr]
    device.close()


def test_rest_reads_go_through_the_same_authenticated_client(
    device: Device, job: dict[str, Any]
) -> None:
    mine = device.client.work_orders(assignee_id=str(job["tech"].id))
    assert [item["id"] for item in mine] == [job["order"]]
    assert device.client.me()["technician_id"] == str(job["tech"].id)


def test_the_pull_after_a_push_asks_for_a_fresh_answer(
    device: Device, link: Flaky, job: dict[str, Any]
) -> None:
    """Once acknowledged, pushed mutations are no longer laid over the view: the pull of
    the same round must bring their effect, not a quiet answer a server worker kept
    from before the push (PROTOCOL.md § 11.3)."""
    pulls: list[str | None] = []
    forward = link.handle_request

    def recording(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/sync/pull":
            pulls.append(request.headers.get("Cache-Control"))
        return forward(request)

    link.handle_request = recording  # type: ignore[method-assign]
    device.sync()  # nothing to push
    quiet_round = list(pulls)
    pulls.clear()
    device.transition(job["order"], "accept")

    report = device.sync()

    assert report.receipts == {"applied": 1}
    assert quiet_round and set(quiet_round) == {None}
    assert pulls and set(pulls) == {"no-cache"}
    assert device.job(job["order"]).status.value == "accepted"  # type: ignore[union-attr]


class CutAfterPatches(Flaky):
    """The link drops after ``allowed`` tus PATCHes; every PATCH sent is logged."""

    def __init__(self, app: Flask, allowed: int) -> None:
        super().__init__(app)
        self.allowed = allowed
        self.patches: list[tuple[int, int]] = []  # (Upload-Offset, body length)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH":
            if len(self.patches) >= self.allowed:
                raise httpx.WriteError("signal lost mid-upload", request=request)
            self.patches.append((int(request.headers["Upload-Offset"]), len(request.read())))
        return super().handle_request(request)


def test_a_large_photo_resumes_from_the_server_offset_after_the_link_drops(
    tmp_path: Path, app: Flask, job: dict[str, Any], uow_factory: UnitOfWorkFactory
) -> None:
    link = CutAfterPatches(app, allowed=1)
    device = Device(tmp_path / "phone", transport=link)
    device.login(SERVER, job["world"].slug, job["email"], PASSWORD)
    big = tmp_path / "pump.jpg"
    big.write_bytes(noise_jpeg((1200, 1000)))  # about 1.4 MB: a resumable upload
    device.sync()
    device.attach_photo(job["order"], big)

    first = device.sync()

    assert (first.uploads.uploaded, first.uploads.failed) == (0, 1)
    assert link.patches == [(0, PIECE_BYTES)]
    link.allowed = 10
    retried = device.uploads.run_due(device.engine.client, force=True)

    assert retried.uploaded == 1
    size = big.stat().st_size
    assert link.patches[1:] == [(PIECE_BYTES, size - PIECE_BYTES)]  # only the rest was sent
    assert device.status()["pending_uploads"] == 0
    with uow_factory.reader() as uow:
        photo = uow.session.scalars(select(Photo)).one()
    assert (photo.size, photo.state) == (size, "ready")
    device.close()


def test_gps_fixes_buffered_offline_reach_the_server_once_even_when_an_answer_is_lost(
    tmp_path: Path, link: Flaky, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    world = factories.tenant()
    _, user, _ = factories.technician_user(world, working_hours=ALWAYS)
    phone = Device(tmp_path / "tracker", transport=link)
    phone.login(SERVER, world.slug, user.email, PASSWORD)
    phone.sync()  # the device is known to the server from here on
    link.offline = True
    start = datetime.now(UTC) - timedelta(minutes=5)
    for i in range(2500):  # five minutes of walking, a fix every 0.12 s
        phone.record_position(
            31.23 + i * 1e-6, 121.47, fixed_at=start + timedelta(milliseconds=120 * i), accuracy_m=5
        )
    with pytest.raises(NetworkError):
        phone.sync()
    assert phone.status()["pending_positions"] == 2500

    link.offline = False
    link.lose_answer_of = "/v1/sync/positions"  # the first batch is kept, its answer lost
    with pytest.raises(NetworkError):
        phone.sync()
    assert phone.status()["pending_positions"] == 2500
    report = phone.sync()

    assert (report.positions.sent, report.positions.kept) == (2500, 1500)
    assert report.positions.duplicates == 1000
    assert phone.status()["pending_positions"] == 0
    assert _count(uow_factory, select(func.count()).select_from(Position)) == 2500
    phone.close()


def test_a_label_scanned_offline_names_its_asset_after_the_sync(
    device: Device, link: Flaky, job: dict[str, Any], factories: Factories
) -> None:
    device.sync()
    link.offline = True
    device.scan_code(job["order"], "PUMP-77", symbology="code_128")
    assert device.job(job["order"]).pending == 1  # queued, nothing shown yet
    link.offline = False

    report = device.sync()
    assert report.receipts["applied"] == 1
    order = device.replica.get("work_orders", job["order"])
    assert order is not None and order.row is not None
    [asset_id] = order.row["asset_ids"]
    asset = device.replica.get("assets", str(asset_id))
    assert asset is not None and asset.row is not None
    assert asset.row["barcode_value"] == "PUMP-77" and asset.row["provisional"] is True


def test_a_signature_taken_offline_goes_up_with_the_completion_it_allows(
    device: Device,
    link: Flaky,
    job: dict[str, Any],
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
) -> None:
    top, _, leaf = factories.category_path(job["world"])
    with uow_factory() as uow:  # the tenant requires a sign-off for this kind of work
        uow.session.get_one(Category, top.id).requires_sign_off = True
        uow.session.get_one(WorkOrder, uuid.UUID(job["order"])).category_id = leaf.id
        uow.commit()
    order = job["order"]
    device.sync()
    link.offline = True
    for action in ("accept", "start_travel", "arrive", "start_work"):
        device.transition(order, action)
    device.sign_off(
        order,
        "王芳",
        drawing={"width": 300, "height": 100, "strokes": [[[10, 10, 0, 0.5], [200, 80, 40, 0.6]]]},
        consent_text="I confirm the work was done.",
        position=(31.2304, 121.4737, 5.0),
    )
    device.transition(order, "complete", resolution="Seals replaced")
    link.offline = False
    report = device.sync()

    assert report.receipts == {"applied": 6}
    with uow_factory.reader() as uow:
        assert uow.session.get_one(WorkOrder, uuid.UUID(order)).status.value == "completed"
        signed = uow.session.scalars(select(WorkOrderSignOff)).one()
    assert (signed.signer_name, signed.gps_lat) == ("王芳", 31.2304)


def test_a_photo_taken_for_a_note_offline_is_that_notes_photo_on_the_server(
    device: Device, link: Flaky, job: dict[str, Any], photo: Path, uow_factory: UnitOfWorkFactory
) -> None:
    device.sync()
    link.offline = True
    note = device.add_note(job["order"], "压缩机漏油，见照片")
    device.attach_photo(job["order"], photo, note_id=note.args["id"])
    link.offline = False

    report = device.sync()

    assert report.receipts["applied"] == 2
    with uow_factory.reader() as uow:
        kept = uow.session.scalars(select(Photo)).one()
    assert str(kept.note_id) == note.args["id"]
