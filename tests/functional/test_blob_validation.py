"""Photo bytes are validated before anything is kept: what is not one whole, supported
image is refused with a ``media.*`` problem, and no row, no file and no photo change
is left behind. What is kept is served back as the image type it really is."""

from __future__ import annotations

import base64
import hashlib
import io
from typing import Any

import pytest
from PIL import Image

from api.config import Config
from api.db import UnitOfWorkFactory
from api.errors.problem import status_for
from api.evidence.errors import from_media
from media.validate import CorruptImage, PolyglotImage, TooManyPixels, UnsupportedType
from sync_protocol.entities import PhotoType
from sync_protocol.merge import Outcome
from sync_protocol.mutations import AttachPhoto
from tests.functional.test_sync_blobs import (
    assigned_order,
    blob_rows,
    head,
    photo_state,
    stored_files,
)
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.images import image, jpeg
from tests.support.push import Device, new_id


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload(api: ApiClient, data: bytes, content_type: str = "image/jpeg") -> Any:
    headers = {"Content-Type": content_type}
    return api.request("PUT", f"/v1/sync/blobs/{sha(data)}", data=data, headers=headers)


def wide_png() -> bytes:
    """A small file that is 20,001 pixels wide: over the 20,000-a-side limit."""
    out = io.BytesIO()
    Image.new("L", (20_001, 1)).save(out, "PNG")
    return out.getvalue()


TRUNCATED = jpeg("cut off", (400, 300))[:1500]
REFUSED = [
    pytest.param(
        b"<!doctype html><script>alert(1)</script>", 415, "media.unsupported_type", id="html"
    ),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg"/>', 415, "media.unsupported_type", id="svg"
    ),
    pytest.param(TRUNCATED, 422, "media.corrupt", id="truncated"),
    pytest.param(jpeg("x") + b"<script>alert(1)</script>", 422, "media.polyglot", id="polyglot"),
    pytest.param(wide_png(), 422, "media.too_many_pixels", id="too-wide"),
]


@pytest.mark.parametrize(("data", "status", "code"), REFUSED)
def test_bytes_that_are_not_one_whole_image_are_refused_and_nothing_is_kept(
    client: ApiClient,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
    config: Config,
    data: bytes,
    status: int,
    code: str,
) -> None:
    scene = factories.scene()
    tech = client.as_(scene.technician_token)
    device = Device(tech)
    photo_id = new_id()
    order = assigned_order(factories, scene)
    attach = AttachPhoto(photo_id, order.id, sha(data), PhotoType.JPEG, len(data))
    assert [r.status for r in device.push_ok([device.mutation(attach)]).receipts] == [
        Outcome.APPLIED
    ]

    assert_problem(upload(tech, data), status, code)

    tenant = scene.world.tenant_id
    assert blob_rows(uow_factory, tenant) == 0
    assert stored_files(config, tenant) == []
    assert head(tech, sha(data)) == 404
    assert photo_state(uow_factory, photo_id) == "pending"  # still waiting for real bytes


def test_a_heic_photo_from_an_iphone_is_kept_as_heic(
    client: ApiClient, factories: Factories, config: Config
) -> None:
    scene = factories.scene()
    tech = client.as_(scene.technician_token)
    heic = image("an iPhone photo", "HEIF", (64, 48))
    assert heic[4:12] == b"ftypheic"  # what pillow-heif writes, like an iPhone

    response = upload(tech, heic, "image/heic")

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["content_type"] == "image/heic"
    assert stored_files(config, scene.world.tenant_id) == [sha(heic)]


def test_bytes_named_as_another_image_type_are_kept_and_served_as_what_they_are(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    tech = client.as_(scene.technician_token)
    png = image("a screenshot", "PNG")
    device = Device(tech)
    order = assigned_order(factories, scene)
    photo_id = new_id()
    attach = AttachPhoto(photo_id, order.id, sha(png), PhotoType.JPEG, len(png))
    device.push_ok([device.mutation(attach)])

    response = upload(tech, png, "image/jpeg")

    assert response.status_code == 201
    assert response.get_json()["content_type"] == "image/png"
    office = client.as_(scene.dispatcher_token)
    url = f"/v1/work-orders/{order.id}/photos/{photo_id}/content"
    with office.get(url) as served:
        assert served.status_code == 200
        assert served.mimetype == "image/png"
        assert served.headers["Content-Disposition"] == f'inline; filename="photo-{photo_id}.png"'
        assert served.data == png
    (listed,) = office.get(f"/v1/work-orders/{order.id}/photos").get_json()["items"]
    original = listed["original"]
    assert original["content_type"] == "image/png"
    with office.get(original["url"]) as linked:  # the short-lived link serves it alike
        assert linked.status_code == 200
        assert linked.mimetype == "image/png"
        assert linked.headers["Content-Disposition"].endswith('.png"')
        assert linked.data == png


@pytest.mark.parametrize(
    "refusal",
    [UnsupportedType("x"), CorruptImage("x"), TooManyPixels("x"), PolyglotImage("x")],
    ids=lambda refusal: refusal.code,
)
def test_each_media_refusal_answers_with_its_own_code_and_status(refusal: Any) -> None:
    error = from_media(refusal)
    assert (error.code, status_for(error)) == (refusal.code, refusal.status)


def test_another_tenants_identical_bytes_do_not_spare_validation(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    first, second = factories.scene(), factories.scene()
    polyglot = jpeg("shared") + b"<script>alert(1)</script>"
    assert_problem(upload(client.as_(first.technician_token), polyglot), 422, "media.polyglot")
    assert_problem(upload(client.as_(second.technician_token), polyglot), 422, "media.polyglot")
    assert blob_rows(uow_factory, second.world.tenant_id) == 0


def test_a_resumable_upload_that_is_no_image_is_refused_at_its_last_byte_and_nothing_is_kept(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    scene = factories.scene()
    tech = client.as_(scene.technician_token)
    polyglot = jpeg("resumed") + b"<script>alert(1)</script>"
    tus = {"Tus-Resumable": "1.0.0"}
    pairs = {"sha256": sha(polyglot), "filetype": "image/jpeg"}
    metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())
    created = tech.request(
        "POST",
        "/v1/uploads",
        headers={**tus, "Upload-Length": str(len(polyglot)), "Upload-Metadata": metadata},
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    url = created.headers["Location"].removeprefix("http://localhost")
    octets = {**tus, "Content-Type": "application/offset+octet-stream"}

    first = tech.request(
        "PATCH", url, data=polyglot[:500], headers={**octets, "Upload-Offset": "0"}
    )
    assert first.status_code == 204
    last = tech.request(
        "PATCH", url, data=polyglot[500:], headers={**octets, "Upload-Offset": "500"}
    )

    assert_problem(last, 422, "media.polyglot")
    tenant = scene.world.tenant_id
    assert blob_rows(uow_factory, tenant) == 0
    assert stored_files(config, tenant) == []
    assert tech.request("HEAD", url, headers=tus).status_code == 404  # the upload is gone
