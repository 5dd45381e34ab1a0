"""With ``FIELDLINE_BLOB_STORE=s3://bucket/prefix`` every photo feature keeps and serves
bytes through S3: the simple PUT, resumable uploads and photo reads use the one store the
app built (here talking HTTP to a local S3-compatible server, moto in server mode)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

import httpx
import pytest
from flask import Flask
from werkzeug.test import TestResponse

from api.config import Config
from api.db import UnitOfWorkFactory
from media.s3 import S3BlobStore
from sync_protocol.entities import PhotoType
from sync_protocol.mutations import AttachPhoto
from tests.functional.test_sync_blobs import assigned_order
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.images import image, jpeg
from tests.support.photos import PhotoJob, run_worker
from tests.support.push import Device, new_id
from tests.support.s3_server import S3Server, running_s3_server


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    with running_s3_server() as server:
        yield server


@pytest.fixture
def s3_store(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch, app: Flask, config: Config
) -> S3BlobStore:
    """The app's store, built from S3 settings as ``create_app`` builds it."""
    settings = s3_server.settings()
    for name, value in {
        "FIELDLINE_BLOB_STORE": f"s3://{s3_server.new_bucket()}/photos",
        "FIELDLINE_S3_ENDPOINT_URL": settings.endpoint_url or "",
        "FIELDLINE_S3_REGION": settings.region or "",
        "FIELDLINE_S3_ACCESS_KEY_ID": settings.access_key_id or "",
        "FIELDLINE_S3_SECRET_ACCESS_KEY": settings.secret_access_key or "",
    }.items():
        monkeypatch.setenv(name, value)
    store = Config.from_env().open_blob_store()
    assert isinstance(store, S3BlobStore)
    monkeypatch.setattr(app.extensions["fieldline"], "blobs", store)
    return store


def keys(store: S3BlobStore) -> list[str]:
    listing = store.client.list_objects_v2(Bucket=store.bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_photo_put_attached_and_read_back_lives_in_the_bucket(
    client: ApiClient, factories: Factories, s3_store: S3BlobStore
) -> None:
    scene = factories.scene()
    tech = client.as_(scene.technician_token)
    photo = jpeg("kept in S3", (160, 120))
    device = Device(tech)
    order = assigned_order(factories, scene)
    photo_id = new_id()
    device.push_ok(
        [device.mutation(AttachPhoto(photo_id, order.id, sha(photo), PhotoType.JPEG, len(photo)))]
    )

    put = tech.request(
        "PUT", f"/v1/sync/blobs/{sha(photo)}", data=photo, headers={"Content-Type": "image/jpeg"}
    )

    assert put.status_code == 201, put.get_data(as_text=True)
    tenant = scene.world.tenant_id
    assert keys(s3_store) == [f"photos/{tenant}/{sha(photo)[:2]}/{sha(photo)}"]
    assert tech.request("HEAD", f"/v1/sync/blobs/{sha(photo)}").status_code == 200
    office = client.as_(scene.dispatcher_token)
    with office.get(f"/v1/work-orders/{order.id}/photos/{photo_id}/content") as served:
        assert served.status_code == 200
        assert served.data == photo
        assert served.mimetype == "image/jpeg"
        assert "sandbox" in served.headers["Content-Security-Policy"]


def test_resumable_uploads_land_in_the_bucket_and_refused_bytes_never_do(
    client: ApiClient, factories: Factories, s3_store: S3BlobStore
) -> None:
    scene = factories.scene()
    tech = client.as_(scene.technician_token)
    photo = jpeg("resumed into S3", (160, 120))
    polyglot = jpeg("hostile") + b"<script>alert(1)</script>"

    answers = [upload_in_one_request(tech, data) for data in (photo, polyglot)]

    assert answers[0].status_code == 201, answers[0].get_data(as_text=True)
    assert_problem(answers[1], 422, "media.polyglot")
    assert [key.rsplit("/", 1)[-1] for key in keys(s3_store)] == [sha(photo)]


def upload_in_one_request(api: ApiClient, data: bytes) -> TestResponse:
    """tus creation-with-upload: the POST carries the whole body."""
    pairs = {"sha256": sha(data), "filetype": "image/jpeg"}
    metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())
    headers = {
        "Tus-Resumable": "1.0.0",
        "Content-Type": "application/offset+octet-stream",
        "Upload-Length": str(len(data)),
        "Upload-Metadata": metadata,
    }
    return api.request("POST", "/v1/uploads", data=data, headers=headers)


def test_photo_links_from_s3_ask_the_bucket_for_the_validated_type_and_an_inline_name(
    client: ApiClient,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
    config: Config,
    s3_store: S3BlobStore,
) -> None:
    """S3 cannot add ``nosniff`` or a sandbox CSP to a presigned GET (docs/deploy.md: a
    response headers policy on the CDN does); what the link can carry, signed so a holder
    cannot change it, is the type the bytes were validated as (a PNG sent as JPEG is
    served as PNG), an inline ``Content-Disposition`` and the caching. moto honours none
    of the ``response-*`` overrides (nor checks their signature), so the link's query is
    what is checked here."""
    job = PhotoJob.start(client, factories)
    png = image("a screenshot sent as a JPEG", "PNG", (640, 480))
    photo_id = job.attach(png)  # declared and uploaded as image/jpeg
    run_worker(uow_factory, config, s3_store)

    office = client.as_(job.scene.dispatcher_token)
    listed = office.get(f"/v1/work-orders/{job.order_id}/photos")
    (photo,) = listed.get_json()["items"]

    links = {"original": photo["original"]} | {d["kind"]: d for d in photo["derivatives"]}
    expected = {
        "original": ("image/png", f'inline; filename="photo-{photo_id}.png"'),
        "thumb": ("image/webp", f'inline; filename="photo-{photo_id}-thumb.webp"'),
        "display": ("image/webp", f'inline; filename="photo-{photo_id}-display.webp"'),
    }
    assert set(links) == set(expected)
    for kind, (content_type, disposition) in expected.items():
        url = links[kind]["url"]
        asked = dict(httpx.URL(url).params)
        assert asked["response-content-type"] == content_type, kind
        assert asked["response-content-disposition"] == disposition, kind
        assert asked["response-cache-control"] == "private, max-age=31536000, immutable"
        # SigV4 (which S3 requires of buckets made since 2020) signs every query
        # parameter: a holder of the link cannot ask for text/html instead.
        assert asked["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256", kind
        assert httpx.get(url).status_code == 200
