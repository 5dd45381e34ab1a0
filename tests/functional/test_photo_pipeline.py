"""The photo pipeline in the outbox worker: once a photo's bytes are here, the office gets
upright WebP renditions without EXIF, the photo's capture time and position as evidence
metadata, and a placeholder; each original is decoded once, a second run changes nothing,
and a corrupt original marks its photo failed without stopping the worker."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from api.config import Config
from api.db import UnitOfWorkFactory, utcnow
from api.evidence import pipeline
from api.evidence.models import Photo, PhotoDerivative
from api.outbox.models import OutboxMessage, OutboxStatus
from api.sync.blobs import collect_garbage
from sync_protocol.entities import PhotoType
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.photos import (
    DARK,
    PhotoJob,
    blob_store,
    camera_heic,
    camera_jpeg,
    plant_bytes,
    run_worker,
)


def _photo(uow_factory: UnitOfWorkFactory, photo_id: uuid.UUID) -> Photo:
    with uow_factory() as uow:
        photo = uow.session.get(Photo, photo_id)
        assert photo is not None
        uow.session.expunge(photo)
        return photo


def _renditions(uow_factory: UnitOfWorkFactory, photo_id: uuid.UUID) -> dict[str, PhotoDerivative]:
    with uow_factory() as uow:
        rows = uow.session.scalars(
            select(PhotoDerivative).where(PhotoDerivative.photo_id == photo_id)
        ).all()
        uow.session.expunge_all()
        return {row.kind: row for row in rows}


def test_a_ready_photo_gets_upright_renditions_without_exif_and_keeps_its_metadata(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    job = PhotoJob.start(client, factories)
    photo_id = job.attach(camera_jpeg((1200, 800), orientation=6))

    assert run_worker(uow_factory, config) >= 1

    photo = _photo(uow_factory, photo_id)
    assert (photo.processing, photo.processing_error) == ("done", None)
    assert (photo.width, photo.height) == (800, 1200)  # upright: turned a quarter
    assert (photo.gps_lat, photo.gps_lon, photo.gps_alt) == (31.2333333, 121.475, 12.5)
    assert photo.captured_at == datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # 09:30 at +08:00
    assert photo.captured_local == "2026-12-01T09:30:00"
    assert photo.blurhash and len(photo.blurhash) >= 20
    assert photo.dominant_color is not None and photo.dominant_color.startswith("#")
    renditions = _renditions(uow_factory, photo_id)
    assert set(renditions) == {"thumb", "display"}
    assert (renditions["thumb"].width, renditions["thumb"].height) == (213, 320)
    assert (renditions["display"].width, renditions["display"].height) == (800, 1200)
    store = blob_store(config)
    for rendition in renditions.values():
        with store.open(job.scene.world.tenant_id, rendition.sha256) as stream:
            data = stream.read()
        assert len(data) == rendition.size
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "WEBP"
            assert image.size == (rendition.width, rendition.height)
            assert not image.getexif()  # no GPS, no capture time
            assert "xmp" not in image.info


def test_running_the_job_again_changes_nothing(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    job = PhotoJob.start(client, factories)
    photo_id = job.attach(camera_jpeg())
    run_worker(uow_factory, config)
    before = {k: (r.id, r.sha256) for k, r in _renditions(uow_factory, photo_id).items()}

    with uow_factory() as uow:  # the same message delivered again
        pipeline.queue_processing(uow.session, job.scene.world.tenant_id, photo_id)
        uow.commit()
    assert run_worker(uow_factory, config) == 1

    after = {k: (r.id, r.sha256) for k, r in _renditions(uow_factory, photo_id).items()}
    assert after == before
    assert _photo(uow_factory, photo_id).processing == "done"


def test_photos_of_the_same_bytes_are_decoded_once_and_share_renditions(
    client: ApiClient,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
    config: Config,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoded: list[int] = []
    real = pipeline.process_photo
    monkeypatch.setattr(pipeline, "process_photo", lambda data: decoded.append(1) or real(data))
    job = PhotoJob.start(client, factories)
    data = camera_jpeg()
    first = job.attach(data)
    run_worker(uow_factory, config)
    # The same picture attached again (to this order, as another photo), bytes already here.
    second = job.attach(data, upload=False)
    run_worker(uow_factory, config)

    assert decoded == [1]
    assert _photo(uow_factory, second).processing == "done"
    assert _photo(uow_factory, second).gps_lat == _photo(uow_factory, first).gps_lat
    shared = {k: r.sha256 for k, r in _renditions(uow_factory, first).items()}
    assert {k: r.sha256 for k, r in _renditions(uow_factory, second).items()} == shared


def test_a_corrupt_original_fails_its_photo_with_a_code_and_the_worker_goes_on(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    job = PhotoJob.start(client, factories)
    whole = camera_jpeg()
    cut = whole[: len(whole) // 2]  # a file cut short on the phone
    broken = job.attach(cut, upload=False)
    plant_bytes(uow_factory, config, job, cut)
    good = job.attach(camera_jpeg(color=(10, 200, 10)))

    run_worker(uow_factory, config)

    failed = _photo(uow_factory, broken)
    assert (failed.processing, failed.processing_error) == ("failed", "media.corrupt")
    assert _renditions(uow_factory, broken) == {}
    assert _photo(uow_factory, good).processing == "done"
    with uow_factory() as uow:
        statuses = set(
            uow.session.scalars(
                select(OutboxMessage.status).where(OutboxMessage.topic == pipeline.TOPIC)
            )
        )
    assert statuses == {OutboxStatus.DONE}  # the failure is the photo's, not the worker's


def test_a_photo_without_exif_is_processed_without_metadata(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    job = PhotoJob.start(client, factories)
    photo_id = job.attach(camera_jpeg(orientation=None, gps={}, taken=None, offset=None))

    run_worker(uow_factory, config)

    photo = _photo(uow_factory, photo_id)
    assert photo.processing == "done"
    assert (photo.width, photo.height) == (1200, 800)
    assert (photo.gps_lat, photo.gps_lon, photo.captured_at, photo.captured_local) == (
        None,
        None,
        None,
        None,
    )


def test_blob_garbage_collection_keeps_the_renditions_of_kept_photos(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    job = PhotoJob.start(client, factories)
    photo_id = job.attach(camera_jpeg())
    run_worker(uow_factory, config)
    store = blob_store(config)
    tenant_id = job.scene.world.tenant_id

    collect_garbage(uow_factory, store, tenant_id, utcnow() + timedelta(days=30))

    renditions = _renditions(uow_factory, photo_id)
    assert len(renditions) == 2
    assert all(store.exists(tenant_id, r.sha256) for r in renditions.values())


def test_an_iphone_heic_gets_upright_webp_renditions_without_exif_and_keeps_its_metadata(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    """iPhones shoot HEIC: sensor pixels turned by the HEIF ``irot`` box, with the same
    orientation, the GPS position and the capture time in EXIF."""
    job = PhotoJob.start(client, factories)
    heic = camera_heic((1200, 800), orientation=6)
    photo_id = job.attach(heic, photo_type=PhotoType.HEIC)

    assert run_worker(uow_factory, config) >= 1

    photo = _photo(uow_factory, photo_id)
    assert (photo.content_type, photo.processing, photo.processing_error) == (
        "image/heic",
        "done",
        None,
    )
    assert (photo.width, photo.height) == (800, 1200)  # upright, and turned only once
    assert (photo.gps_lat, photo.gps_lon, photo.gps_alt) == (31.2333333, 121.475, 12.5)
    assert photo.captured_at == datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
    assert photo.captured_local == "2026-12-01T09:30:00"
    renditions = _renditions(uow_factory, photo_id)
    assert {k: (r.width, r.height, r.content_type) for k, r in renditions.items()} == {
        "thumb": (213, 320, "image/webp"),
        "display": (800, 1200, "image/webp"),
    }
    store = blob_store(config)
    for rendition in renditions.values():
        with store.open(job.scene.world.tenant_id, rendition.sha256) as stream:
            data = stream.read()
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "WEBP"
            assert not image.getexif()  # no GPS, no capture time, no orientation left
            assert "xmp" not in image.info
            rgb = image.convert("RGB")
        # The sensor's top-left corner is dark; turned a quarter clockwise, it is top right.
        assert _near(rgb.getpixel((rgb.width - 4, 4)), DARK)
        assert not _near(rgb.getpixel((4, 4)), DARK)
        assert not _near(rgb.getpixel((rgb.width - 4, rgb.height - 4)), DARK)


def _near(pixel: object, color: tuple[int, int, int], tolerance: int = 24) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, color, strict=True))
