"""``HEAD``/``PUT /v1/sync/blobs/{sha256}``: photo bytes arrive before or after their mutation,
are kept only when whole and true to their hash, and settle the photo rows devices pull
(PROTOCOL.md § 10, § 16.5)."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from werkzeug.test import TestResponse

from api.config import Config
from api.db import UnitOfWorkFactory, utcnow
from api.evidence.models import Photo
from api.sync.blobs import collect_garbage
from api.sync.models import SyncBlob
from media.blobs import FilesystemBlobStore
from sync_protocol.entities import PhotoType, Table
from sync_protocol.merge import Outcome
from sync_protocol.mutations import MAX_PHOTO_BYTES, AttachPhoto
from sync_protocol.scopes import technician_scope
from tests.conftest import count_rows
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene
from tests.support.images import jpeg
from tests.support.push import Device, new_id
from tests.support.sync import Replica

JPEG = jpeg("a site photo", (160, 120))  # several KB: uploads come in pieces
JPEG_SHA = hashlib.sha256(JPEG).hexdigest()


class Zeros(io.RawIOBase):
    """``size`` zero bytes, produced as they are read: a 25 MiB body without 25 MiB of memory."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = base + offset
        return self.position

    def readinto(self, buffer: Any) -> int:
        n = max(0, min(len(buffer), self.size - self.position))
        buffer[:n] = b"\0" * n
        self.position += n
        return n


def put(api: ApiClient, data: bytes, sha256: str = JPEG_SHA, **kw: Any) -> TestResponse:
    headers = {"Content-Type": "image/jpeg", **kw.pop("headers", {})}
    return api.request("PUT", f"/v1/sync/blobs/{sha256}", data=data, headers=headers, **kw)


def head(api: ApiClient, sha256: str = JPEG_SHA) -> int:
    return api.request("HEAD", f"/v1/sync/blobs/{sha256}").status_code


def assigned_order(factories: Factories, scene: Scene) -> Any:
    order = factories.work_order(scene.world, scene.customer, scene.site)
    return factories.transition(scene.world, order, "assign", assignee_id=scene.technician.id)


def attach(device: Device, order_id: uuid.UUID, size: int = len(JPEG)) -> uuid.UUID:
    photo_id = new_id()
    response = device.push_ok(
        [device.mutation(AttachPhoto(photo_id, order_id, JPEG_SHA, PhotoType.JPEG, size))]
    )
    assert [r.status for r in response.receipts] == [Outcome.APPLIED]
    return photo_id


def photo_state(uow_factory: UnitOfWorkFactory, photo_id: uuid.UUID) -> str:
    with uow_factory.reader() as uow:
        return uow.session.get_one(Photo, photo_id).state


def stored_files(config: Config, tenant_id: uuid.UUID) -> list[str]:
    root: Path = config.resolved_blob_dir() / str(tenant_id)
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def blob_rows(uow_factory: UnitOfWorkFactory, tenant_id: uuid.UUID) -> int:
    with uow_factory.reader() as uow:
        query = select(func.count()).where(SyncBlob.tenant_id == tenant_id)
        return int(uow.session.scalar(query) or 0)


def test_bytes_after_the_mutation_make_the_photo_ready_and_devices_pull_it_ready(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    scene = factories.scene()
    order = assigned_order(factories, scene)
    tech = client.as_(scene.technician_token)
    photo_id = attach(Device(tech), order.id)
    assert photo_state(uow_factory, photo_id) == "pending"
    assert head(tech) == 404  # the upload queue must send the bytes

    response = put(tech, JPEG)

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json() == {
        "sha256": JPEG_SHA,
        "content_type": "image/jpeg",
        "size": len(JPEG),
    }
    assert head(tech) == 200
    assert photo_state(uow_factory, photo_id) == "ready"
    assert stored_files(config, scene.world.tenant_id) == [JPEG_SHA]
    replica = Replica(tech, {str(technician_scope(scene.technician.id)): None})
    replica.sync()
    photos = [row for (_, table, _), row in replica.rows.items() if table == Table.PHOTOS.value]
    assert [(p["id"], p["state"]) for p in photos] == [(str(photo_id), "ready")]


def test_bytes_before_the_mutation_are_found_by_it(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    order = assigned_order(factories, scene)
    tech = client.as_(scene.technician_token)
    assert put(tech, JPEG).status_code == 201  # uploaded over a brief connection at 10:59

    photo_id = attach(Device(tech), order.id)

    assert photo_state(uow_factory, photo_id) == "ready"


def test_truncated_bytes_are_refused_and_keep_nothing_and_the_photo_stays_pending(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    scene = factories.scene()
    order = assigned_order(factories, scene)
    tech = client.as_(scene.technician_token)
    photo_id = attach(Device(tech), order.id)

    response = put(tech, JPEG[:-100])

    assert_problem(response, 422, "sync.checksum_mismatch")
    assert photo_state(uow_factory, photo_id) == "pending"
    assert head(tech) == 404
    assert blob_rows(uow_factory, scene.world.tenant_id) == 0
    assert stored_files(config, scene.world.tenant_id) == []
    # The queue retries with the whole file.
    assert put(tech, JPEG).status_code == 201
    assert photo_state(uow_factory, photo_id) == "ready"


def test_a_photo_whose_declared_size_differs_from_its_bytes_becomes_invalid(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    order = assigned_order(factories, scene)
    tech = client.as_(scene.technician_token)
    photo_id = attach(Device(tech), order.id, size=len(JPEG) + 1)

    assert put(tech, JPEG).status_code == 201

    assert photo_state(uow_factory, photo_id) == "invalid"


def test_a_repeated_put_answers_200_and_changes_nothing(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, engine: Engine
) -> None:
    scene = factories.scene()
    order = assigned_order(factories, scene)
    tech = client.as_(scene.technician_token)
    photo_id = attach(Device(tech), order.id)
    assert put(tech, JPEG).status_code == 201
    before = count_rows(engine)  # includes the change log: no new change for devices

    again = put(tech, JPEG)

    assert again.status_code == 200, again.get_data(as_text=True)
    assert again.get_json()["size"] == len(JPEG)
    assert count_rows(engine) == before
    assert photo_state(uow_factory, photo_id) == "ready"


def test_another_tenant_does_not_have_bytes_it_never_uploaded(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene, other = factories.scene(), factories.scene()
    tech, other_tech = client.as_(scene.technician_token), client.as_(other.technician_token)
    assert put(tech, JPEG).status_code == 201

    assert head(other_tech) == 404
    other_photo = attach(Device(other_tech), assigned_order(factories, other).id)
    assert photo_state(uow_factory, other_photo) == "pending"
    # Uploading the same bytes gives the other tenant its own copy.
    assert put(other_tech, JPEG).status_code == 201
    assert photo_state(uow_factory, other_photo) == "ready"


def test_only_photo_types_are_accepted_and_nothing_is_kept_otherwise(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    scene = factories.scene()
    tech = client.as_(scene.technician_token)

    for content_type in ("text/plain", "application/json", "image/gif"):
        response = put(tech, JPEG, headers={"Content-Type": content_type})
        assert_problem(response, 415, "sync.unsupported_media_type")
    gzipped = put(tech, JPEG, headers={"Content-Encoding": "gzip"})
    assert_problem(gzipped, 415, "request.unsupported_media_type")

    assert head(tech) == 404
    assert stored_files(config, scene.world.tenant_id) == []
    for content_type in ("image/png", "image/webp", "image/heic"):
        assert put(tech, JPEG, headers={"Content-Type": content_type}).status_code in (200, 201)


def test_over_25_mib_is_refused_whether_declared_or_streamed(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    scene = factories.scene()
    tech = client.as_(scene.technician_token)
    zeros_sha = hashlib.sha256(b"\0" * 10).hexdigest()  # any well-formed name

    declared = Zeros(MAX_PHOTO_BYTES + 1)
    response = put(tech, b"", zeros_sha, input_stream=declared)
    assert_problem(response, 413, "sync.blob_too_large")
    assert declared.position == 0  # refused on its Content-Length, before a byte was read

    # Chunked: no Content-Length, so the limit is enforced while streaming.
    streamed = Zeros(MAX_PHOTO_BYTES + 1)
    chunked = put(
        tech,
        b"",
        zeros_sha,
        input_stream=streamed,
        environ_overrides={"CONTENT_LENGTH": "", "wsgi.input_terminated": True},
        headers={"Transfer-Encoding": "chunked"},
    )
    assert_problem(chunked, 413, "sync.blob_too_large")
    assert streamed.position == MAX_PHOTO_BYTES + 1  # read up to the limit, no further
    assert stored_files(config, scene.world.tenant_id) == []
    assert blob_rows(uow_factory, scene.world.tenant_id) == 0


def test_a_url_that_is_not_a_lowercase_sha256_is_404(
    client: ApiClient, factories: Factories
) -> None:
    tech = client.as_(factories.scene().technician_token)
    for name in (JPEG_SHA.upper(), JPEG_SHA[:-1], "." * 64, "x" * 64):
        assert head(tech, name) == 404, name
        assert_problem(put(tech, JPEG, name), 404, "request.not_found")


def test_the_blob_endpoints_need_a_sync_login(client: ApiClient, factories: Factories) -> None:
    scene = factories.scene()
    assert_problem(put(client, JPEG), 401, "auth.required")
    contact = client.as_(scene.contact_token)
    assert head(contact) == 403
    assert_problem(put(contact, JPEG), 403, "auth.forbidden")


def test_bytes_no_photo_references_for_seven_days_are_collected(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    scene = factories.scene()
    tenant = scene.world.tenant_id
    device = Device(client.as_(scene.technician_token))
    used, orphan, fresh = JPEG, JPEG + b"orphan", JPEG + b"fresh"
    for data in (used, orphan, fresh):
        assert put(device.client, data, hashlib.sha256(data).hexdigest()).status_code == 201
    attach(device, assigned_order(factories, scene).id)  # references `used`
    long_ago = utcnow() - timedelta(days=8)
    with uow_factory() as uow:  # `used` and `orphan` were stored eight days ago
        for data in (used, orphan):
            sha = hashlib.sha256(data).hexdigest()
            uow.session.get_one(SyncBlob, (tenant, sha)).created_at = long_ago
            path = config.resolved_blob_dir() / str(tenant) / sha[:2] / sha
            os.utime(path, (long_ago.timestamp(), long_ago.timestamp()))
        uow.commit()

    store = FilesystemBlobStore(config.resolved_blob_dir())
    collected = collect_garbage(uow_factory, store, tenant, utcnow())

    assert (collected.claims, collected.files) == (1, 1)
    assert head(device.client, hashlib.sha256(orphan).hexdigest()) == 404
    assert head(device.client, hashlib.sha256(used).hexdigest()) == 200  # a photo needs it
    assert head(device.client, hashlib.sha256(fresh).hexdigest()) == 200  # not old enough
    assert hashlib.sha256(orphan).hexdigest() not in stored_files(config, tenant)
    assert len(stored_files(config, tenant)) == 2
    # Sent again (say, by a device whose mutation was stuck for a week), it is stored again.
    assert put(device.client, orphan, hashlib.sha256(orphan).hexdigest()).status_code == 201
