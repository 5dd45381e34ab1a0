"""Decompression bombs at the server's real limits (50 megapixels, 20,000 pixels a side):
a file of a few kilobytes that declares a huge image is refused by both upload paths
with ``media.too_many_pixels`` before a pixel is decoded, and nothing of it is kept.

Each size is chosen for the check it reaches: 9,000 × 9,000 (81 megapixels) is over
Fieldline's limit but under Pillow's own bomb warning (89 megapixels), so only the
server's check stands in its way; 10,000 × 10,000 is past Pillow's warning too, and
60,000 × 60,000 past the side limit and Pillow's hard error.
"""

from __future__ import annotations

import hashlib
import itertools
import shutil
import uuid
from collections.abc import Iterator

import pytest

from api.config import Config
from api.db import UnitOfWorkFactory
from media import tus
from media.validate import MAX_PIXELS, MAX_SIDE
from sync_protocol.entities import PhotoType
from sync_protocol.mutations import AttachPhoto
from tests.functional.test_sync_blobs import (
    assigned_order,
    blob_rows,
    head,
    photo_state,
    stored_files,
)
from tests.functional.test_uploads import head as upload_head
from tests.functional.test_uploads import location, metadata, patch, staged
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene
from tests.support.images import jpeg_declaring, pixel_bomb_png
from tests.support.push import Device, new_id

BOMBS = [
    pytest.param(pixel_bomb_png(9_000, 9_000), "image/png", id="png-81-megapixels"),
    pytest.param(pixel_bomb_png(10_000, 10_000), "image/png", id="png-100-megapixels"),
    pytest.param(jpeg_declaring(9_000, 9_000), "image/jpeg", id="jpeg-header-81-megapixels"),
    pytest.param(jpeg_declaring(60_000, 60_000), "image/jpeg", id="jpeg-header-60000-a-side"),
]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(autouse=True)
def _empty_staging(config: Config) -> Iterator[None]:
    shutil.rmtree(config.resolved_upload_dir(), ignore_errors=True)
    yield
    tus.RUNNING.clear()


@pytest.fixture
def scene(factories: Factories) -> Scene:
    return factories.scene()


def test_the_bombs_are_small_files_over_the_default_limits() -> None:
    assert (MAX_PIXELS, MAX_SIDE) == (50_000_000, 20_000)  # PROTOCOL.md § 10
    for bomb in BOMBS:
        data = bomb.values[0]
        assert isinstance(data, bytes) and len(data) < 200_000


def attached(
    client: ApiClient, factories: Factories, scene: Scene, data: bytes, mime: str
) -> uuid.UUID:
    """A photo on the technician's job waiting for ``data``; its id."""
    device = Device(client.as_(scene.technician_token))
    photo_id = new_id()
    order = assigned_order(factories, scene)
    args = AttachPhoto(photo_id, order.id, sha(data), PhotoType(mime), len(data))
    device.push_ok([device.mutation(args)])
    return photo_id


def _nothing_kept(
    tech: ApiClient,
    scene: Scene,
    uow_factory: UnitOfWorkFactory,
    config: Config,
    data: bytes,
    photo_id: uuid.UUID,
) -> None:
    """No blob row, no stored file, and the photo still waits for real bytes."""
    tenant = scene.world.tenant_id
    assert blob_rows(uow_factory, tenant) == 0
    assert stored_files(config, tenant) == []
    assert head(tech, sha(data)) == 404
    assert photo_state(uow_factory, photo_id) == "pending"


@pytest.mark.parametrize(("data", "mime"), BOMBS)
def test_a_bomb_put_as_a_blob_is_refused_and_nothing_is_kept(
    data: bytes,
    mime: str,
    client: ApiClient,
    factories: Factories,
    scene: Scene,
    uow_factory: UnitOfWorkFactory,
    config: Config,
) -> None:
    tech = client.as_(scene.technician_token)
    photo_id = attached(client, factories, scene, data, mime)

    refused = tech.request(
        "PUT", f"/v1/sync/blobs/{sha(data)}", data=data, headers={"Content-Type": mime}
    )

    assert_problem(refused, 422, "media.too_many_pixels")
    _nothing_kept(tech, scene, uow_factory, config, data, photo_id)


@pytest.mark.parametrize("pieces", [1, 3])
@pytest.mark.parametrize(("data", "mime"), BOMBS)
def test_a_bomb_sent_by_tus_is_refused_and_the_upload_removed_with_its_bytes(
    data: bytes,
    mime: str,
    pieces: int,
    client: ApiClient,
    factories: Factories,
    scene: Scene,
    uow_factory: UnitOfWorkFactory,
    config: Config,
) -> None:
    tech = client.as_(scene.technician_token)
    photo_id = attached(client, factories, scene, data, mime)
    created = {"Upload-Length": str(len(data)), "Upload-Metadata": metadata(sha(data), mime)}
    url = location(tech, **created)
    cuts = [len(data) * n // pieces for n in range(pieces + 1)]
    for start, end in itertools.pairwise(cuts[:-1]):
        assert patch(tech, url, start, data[start:end]).status_code == 204

    refused = patch(tech, url, cuts[-2], data[cuts[-2] :])

    assert_problem(refused, 422, "media.too_many_pixels")
    assert upload_head(tech, url).status_code == 404  # the upload is gone ...
    assert staged(config) == []  # ... with its staged bytes
    _nothing_kept(tech, scene, uow_factory, config, data, photo_id)
