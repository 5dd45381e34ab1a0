"""A technician's profile photo: set by themself or the office, checked like every photo,
shown as square WebP portraits without EXIF; customers see it on the tracking page only
while the technician is assigned to their open order, under the link's own URL."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from urllib.parse import urlsplit

from PIL import Image
from werkzeug.test import TestResponse

from api.config import Config
from api.db import UnitOfWorkFactory, utcnow
from api.sync.blobs import collect_garbage
from api.workorders.states import Status
from media.blobs import FilesystemBlobStore
from tests.support.api_client import ApiClient
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene
from tests.support.photos import camera_jpeg

JPEG = {"Content-Type": "image/jpeg"}


def put_photo(api: ApiClient, technician_id: object, data: bytes) -> TestResponse:
    return api.request("PUT", f"/v1/technicians/{technician_id}/photo", data=data, headers=JPEG)


def fetch_image(client: ApiClient, url: str) -> Image.Image:
    response = client.get(url)
    data = response.get_data()
    response.close()  # the stored file it streamed
    assert response.status_code == 200, data
    assert response.headers["Content-Type"] == "image/webp"
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_a_technician_sets_their_own_photo_and_gets_square_portraits_without_exif(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    me = client.as_(scene.technician_token)
    assert me.get(f"/v1/technicians/{scene.technician.id}/photo").status_code == 404
    answered = put_photo(me, scene.technician.id, camera_jpeg((1200, 800)))
    assert answered.status_code == 200, answered.get_data(as_text=True)
    body = answered.get_json()
    small, large = fetch_image(client, body["small_url"]), fetch_image(client, body["large_url"])
    assert (small.size, large.size) == ((96, 96), (320, 320))
    assert not large.getexif() and "exif" not in large.info  # no GPS, no capture time
    # The sideways camera JPEG was turned upright: its dark corner is now top right.
    assert large.convert("RGB").getpixel((300, 20))[0] < 60
    office = client.as_(scene.dispatcher_token)
    read = office.get(f"/v1/technicians/{scene.technician.id}/photo").get_json()
    assert read["updated_at"] == body["updated_at"]


def test_the_office_sets_and_removes_anyones_photo_and_a_teammate_may_not(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    office = client.as_(scene.dispatcher_token)
    path = f"/v1/technicians/{scene.technician.id}/photo"
    assert put_photo(office, scene.technician.id, camera_jpeg((600, 900))).status_code == 200
    _, _, other_token = factories.technician_user(scene.world)
    other = client.as_(other_token)
    refused = put_photo(other, scene.technician.id, camera_jpeg())
    assert refused.status_code in (403, 404)  # not theirs to change (404 if not a teammate)
    assert other.request("DELETE", path).status_code in (403, 404)
    assert office.request("DELETE", path).status_code == 204
    gone = office.get(path)
    assert gone.status_code == 404 and gone.get_json()["code"] == "technician.no_photo"
    audit = client.as_(scene.world.admin_token).get(
        "/v1/audit-events", query_string={"entity_id": str(scene.technician.id)}
    )
    items = audit.get_json()["items"]
    changes = [e["changes"]["photo_sha256"] for e in items if "photo_sha256" in e["changes"]]
    assert [c["after"] is None for c in changes] == [True, False]  # newest first
    assert changes[0]["before"] == changes[1]["after"]  # who set it, and who removed it


def test_another_tenants_technician_is_not_found(client: ApiClient, factories: Factories) -> None:
    scene, other = factories.scene(), factories.scene()
    foreign = client.as_(other.dispatcher_token)
    path = f"/v1/technicians/{scene.technician.id}/photo"
    assert (
        put_photo(
            client.as_(scene.dispatcher_token), scene.technician.id, camera_jpeg()
        ).status_code
        == 200
    )
    for response in (
        foreign.get(path),
        put_photo(foreign, scene.technician.id, camera_jpeg()),
        foreign.request("DELETE", path),
    ):
        assert response.status_code == 404
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert response.get_json()["code"] == "technician.not_found"
    assert client.as_(scene.dispatcher_token).get(path).status_code == 200  # still there


def test_what_is_not_a_whole_image_is_refused_and_nothing_is_kept(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    me = client.as_(scene.technician_token)
    whole = camera_jpeg()
    for data in (b"<html><script>alert(1)</script></html>", whole[: len(whole) // 2]):
        refused = put_photo(me, scene.technician.id, data)
        assert refused.status_code in (415, 422)
        assert refused.get_json()["code"].startswith("media.")
    assert me.get(f"/v1/technicians/{scene.technician.id}/photo").status_code == 404


def _tracked_order(client: ApiClient, factories: Factories, scene: Scene) -> tuple[object, str]:
    order = factories.work_order(scene.world, scene.customer, scene.site)
    made = client.as_(scene.dispatcher_token).post(f"/v1/work-orders/{order.id}/tracking-link")
    assert made.status_code == 201
    return order, made.get_json()["token"]


def test_the_tracking_page_shows_the_assigned_technicians_photo_only_while_the_order_is_open(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory
) -> None:
    scene = factories.scene()
    put_photo(client.as_(scene.technician_token), scene.technician.id, camera_jpeg())
    order, token = _tracked_order(client, factories, scene)
    public = ApiClient(client.http)
    photo_path = f"/v1/tracking/{token}/technician-photo"
    assert public.get(f"/v1/tracking/{token}").get_json()["technician"] is None
    assert public.get(photo_path).status_code == 404  # nobody assigned yet

    order = factories.advance(scene.world, order, Status.EN_ROUTE, scene.technician)
    shown = public.get(f"/v1/tracking/{token}").get_json()["technician"]
    url = shown["photo_url"]
    assert url.split("?")[0].endswith(photo_path)
    for secret in (str(scene.technician.id), str(scene.world.tenant_id), scene.technician.name):
        assert secret not in url and secret.replace("-", "") not in url
    parts = urlsplit(url)
    portrait = fetch_image(public, f"{parts.path}?{parts.query}")
    assert portrait.size == (320, 320)
    page = public.get(f"/t/{token}")
    assert page.status_code == 200 and "technician-photo" in page.get_data(as_text=True)

    factories.advance(scene.world, order, Status.COMPLETED, scene.technician)
    after = public.get(f"/v1/tracking/{token}").get_json()["technician"]
    assert after["name"] and after["photo_url"] is None
    ended = public.get(photo_path)
    assert ended.status_code == 404
    assert ended.get_json()["code"] == "tracking.no_technician_photo"


def test_the_console_board_lists_each_technicians_small_portrait(
    client: ApiClient, factories: Factories
) -> None:
    scene = factories.scene()
    factories.technician_user(scene.world)  # one without a photo
    put_photo(client.as_(scene.technician_token), scene.technician.id, camera_jpeg())
    board = client.as_(scene.dispatcher_token).get("/v1/board/technicians")
    assert board.status_code == 200
    urls = {item["id"]: item["photo_url"] for item in board.get_json()["items"]}
    assert sorted(url is None for url in urls.values()) == [False, True]
    assert fetch_image(client, urls[str(scene.technician.id)]).size == (96, 96)


def test_collecting_unreferenced_bytes_keeps_every_technician_photo(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    scene = factories.scene()
    body = put_photo(client.as_(scene.technician_token), scene.technician.id, camera_jpeg())
    tenant = scene.world.tenant_id
    tenant_dir = config.resolved_blob_dir() / str(tenant)
    long_ago = (utcnow() - timedelta(days=30)).timestamp()
    files = [path for path in tenant_dir.rglob("*") if path.is_file()]
    assert len(files) == 3  # the upload and its two portraits
    for path in files:
        os.utime(path, (long_ago, long_ago))

    store = FilesystemBlobStore(config.resolved_blob_dir())
    collected = collect_garbage(uow_factory, store, tenant, utcnow())
    assert collected.files == 0
    assert fetch_image(client, body.get_json()["large_url"]).size == (320, 320)
