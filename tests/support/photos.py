"""Photos for pipeline tests: camera-like JPEGs with EXIF, taken on a job through sync."""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass, field

import pillow_heif
from PIL import Image

from api.config import Config
from api.db import UnitOfWorkFactory
from api.outbox.registry import handlers
from api.outbox.worker import RetryPolicy, run_once
from api.sync.blobs import settle_photos
from api.sync.models import SyncBlob
from media.blobs import BlobStore
from sync_protocol.entities import PhotoType
from sync_protocol.merge import Outcome
from sync_protocol.mutations import AttachPhoto
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene
from tests.support.push import Device, new_id

SHANGHAI = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 30.0), 5: b"\x00", 6: 12.5}


DARK = (20, 20, 20)  # the colour of the camera photos' dark corner


def camera_jpeg(
    size: tuple[int, int] = (1200, 800),
    *,
    color: tuple[int, int, int] = (200, 40, 30),
    orientation: int | None = 6,
    gps: dict[int, object] | None = None,
    taken: str | None = "2026:12:01 09:30:00",
    offset: str | None = "+08:00",
) -> bytes:
    """A JPEG as a phone writes it: sideways pixels with an EXIF orientation, GPS, time."""
    img, exif = _sensor_image(size, color, orientation, gps, taken, offset)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90, exif=exif)
    return buf.getvalue()


def camera_heic(
    size: tuple[int, int] = (1200, 800),
    *,
    color: tuple[int, int, int] = (200, 40, 30),
    orientation: int = 6,
    gps: dict[int, object] | None = None,
    taken: str | None = "2026:12:01 09:30:00",
    offset: str | None = "+08:00",
) -> bytes:
    """A HEIC as an iPhone writes it: the sensor's (sideways) pixels, HEVC-coded, with the
    turn in the HEIF ``irot`` box *and* the same EXIF orientation, GPS and capture time.

    pillow-heif hands the EXIF orientation to libheif as the image's transform (so
    the file gets its ``irot``) only when the EXIF comes as bytes, not as an ``Exif``.
    """
    pillow_heif.register_heif_opener()  # as media.validate does (idempotent)
    img, exif = _sensor_image(size, color, orientation, gps, taken, offset)
    buf = io.BytesIO()
    img.save(buf, "HEIF", quality=80, exif=exif.tobytes())
    data = buf.getvalue()
    assert data[4:12] == b"ftypheic" and (orientation == 1 or b"irot" in data), "not iPhone-like"
    return data


def _sensor_image(
    size: tuple[int, int],
    color: tuple[int, int, int],
    orientation: int | None,
    gps: dict[int, object] | None,
    taken: str | None,
    offset: str | None,
) -> tuple[Image.Image, Image.Exif]:
    img = Image.new("RGB", size, color)
    img.paste(DARK, (0, 0, size[0] // 4, size[1] // 4))  # a dark corner: top left
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    exif[0x8825] = SHANGHAI if gps is None else gps
    details: dict[int, object] = {}
    if taken:
        details[0x9003] = taken
    if offset:
        details[0x9011] = offset
    exif[0x8769] = details
    return img, exif


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class PhotoJob:
    """One assigned order whose technician attaches photos through sync."""

    client: ApiClient
    scene: Scene
    order_id: uuid.UUID
    device: Device
    photos: list[uuid.UUID] = field(default_factory=list)

    @classmethod
    def start(cls, client: ApiClient, factories: Factories, scene: Scene | None = None) -> PhotoJob:
        scene = scene or factories.scene()
        order = factories.work_order(scene.world, scene.customer, scene.site)
        factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)
        tech = client.as_(scene.technician_token)
        return cls(client, scene, order.id, Device(tech))

    def attach(
        self,
        data: bytes,
        *,
        upload: bool = True,
        caption: str = "Valve",
        asset_id: uuid.UUID | None = None,
        photo_type: PhotoType = PhotoType.JPEG,
    ) -> uuid.UUID:
        photo_id = new_id()
        args = AttachPhoto(
            photo_id,
            self.order_id,
            sha(data),
            photo_type,
            len(data),
            caption=caption,
            asset_id=asset_id,
        )
        (receipt,) = self.device.push_ok([self.device.mutation(args)]).receipts
        assert receipt.status is Outcome.APPLIED
        if upload:
            self.upload(data, photo_type)
        self.photos.append(photo_id)
        return photo_id

    def upload(self, data: bytes, photo_type: PhotoType = PhotoType.JPEG) -> None:
        tech = self.client.as_(self.scene.technician_token)
        response = tech.request(
            "PUT", f"/v1/sync/blobs/{sha(data)}", data=data, headers={"Content-Type": photo_type}
        )
        assert response.status_code in (200, 201), response.get_data(as_text=True)


def plant_bytes(uow_factory: UnitOfWorkFactory, config: Config, job: PhotoJob, data: bytes) -> None:
    """Store bytes behind the upload's back (as if kept before uploads were validated, or
    damaged at rest), and settle the photos waiting for them as an upload does."""
    tenant_id = job.scene.world.tenant_id
    blob_store(config).put(tenant_id, sha(data), io.BytesIO(data), len(data))
    with uow_factory() as uow:
        uow.session.add(
            SyncBlob(
                tenant_id=tenant_id, sha256=sha(data), content_type="image/jpeg", size=len(data)
            )
        )
        settle_photos(uow.session, tenant_id, sha(data), len(data))
        uow.commit()


def blob_store(config: Config) -> BlobStore:
    return config.open_blob_store()  # the app's store (the tests' data folder)


def run_worker(
    uow_factory: UnitOfWorkFactory, config: Config, store: BlobStore | None = None
) -> int:
    """Run every due outbox message (as ``fieldline worker --once``), with the app's
    store or ``store`` (an S3 one a test put in its place); how many ran."""
    policy = RetryPolicy(max_attempts=3)
    topics = handlers(store or blob_store(config))
    total = 0
    while claimed := run_once(uow_factory, topics, policy):
        total += claimed
    return total
