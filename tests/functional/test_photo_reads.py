"""The office reads a job's (or an asset's) photos with their renditions, placeholders and
metadata, and fetches bytes through short-lived links; customers see only what is shown
to them and never a position or an original; a forged or expired link serves nothing.
The office annotates a photo and gets an annotated rendition, the original untouched."""

from __future__ import annotations

import io
import time
import uuid
from typing import Any

from PIL import Image

from api.config import Config
from api.db import UnitOfWorkFactory
from media.links import BlobLink, LinkSigner
from sync_protocol.entities import PhotoType
from sync_protocol.merge import Outcome
from sync_protocol.mutations import AddNote, AttachPhoto
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.photos import PhotoJob, camera_jpeg, run_worker, sha
from tests.support.push import new_id


def _photos(client: ApiClient, token: str, url: str) -> list[dict[str, Any]]:
    response = client.as_(token).get(url)
    assert response.status_code == 200, response.get_json()
    items: list[dict[str, Any]] = response.get_json()["items"]
    return items


def _processed_job(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> tuple[PhotoJob, uuid.UUID]:
    job = PhotoJob.start(client, factories)
    photo_id = job.attach(camera_jpeg((1200, 800), orientation=6))
    run_worker(uow_factory, config)
    return job, photo_id


def test_the_office_lists_photos_with_renditions_and_fetches_them_by_link(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    job, photo_id = _processed_job(client, factories, uow_factory, config)

    (photo,) = _photos(client, job.scene.dispatcher_token, f"/v1/work-orders/{job.order_id}/photos")

    assert photo["id"] == str(photo_id) and photo["processing"] == "done"
    assert (photo["width"], photo["height"]) == (800, 1200)
    assert photo["location"] == {"lat": 31.2333333, "lon": 121.475, "alt": 12.5}
    assert photo["captured_at"].startswith("2026-12-01T01:30:00")
    assert photo["placeholder"]["color"].startswith("#") and photo["placeholder"]["blurhash"]
    sizes = [(d["kind"], d["width"], d["height"]) for d in photo["derivatives"]]
    assert sizes == [("thumb", 213, 320), ("display", 800, 1200)]
    assert photo["original"]["content_type"] == "image/jpeg"

    thumb = photo["derivatives"][0]
    anonymous = client.as_(None)  # the link is the credential
    with anonymous.get(thumb["url"]) as response:
        assert response.status_code == 200
        assert response.mimetype == "image/webp"
        assert len(response.data) == thumb["size"]
        with Image.open(io.BytesIO(response.data)) as image:
            assert image.size == (213, 320) and not image.getexif()
        disposition = response.headers["Content-Disposition"]
        assert disposition == f'inline; filename="photo-{photo_id}-thumb.webp"'
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        cache = response.headers["Cache-Control"]
        assert {"private", "immutable", "max-age=31536000"} <= set(
            cache.replace(" ", "").split(",")
        )
        etag = response.headers["ETag"]
    with anonymous.get(thumb["url"], headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304
    with anonymous.get(photo["original"]["url"]) as original:
        assert original.status_code == 200 and original.mimetype == "image/jpeg"
        assert original.headers["Content-Disposition"] == f'inline; filename="photo-{photo_id}.jpg"'
    # Listed again a moment later: the same URLs, so the browser's cache answers.
    (again_listed,) = _photos(
        client, job.scene.dispatcher_token, f"/v1/work-orders/{job.order_id}/photos"
    )
    assert again_listed["derivatives"][0]["url"] == thumb["url"]


def test_customers_see_only_photos_shown_to_them_without_position_or_original(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    job, shown = _processed_job(client, factories, uow_factory, config)
    job.attach(camera_jpeg(color=(0, 90, 200)))  # stays internal (the default)
    run_worker(uow_factory, config)
    office = client.as_(job.scene.dispatcher_token)
    visibility = f"/v1/work-orders/{job.order_id}/photos/{shown}/visibility"
    assert office.request("PUT", visibility, json={"visibility": "customer"}).status_code == 200

    photos = _photos(client, job.scene.contact_token, f"/v1/work-orders/{job.order_id}/photos")

    assert [p["id"] for p in photos] == [str(shown)]
    (photo,) = photos
    assert photo["location"] is None and photo["original"] is None
    assert [d["kind"] for d in photo["derivatives"]] == ["thumb", "display"]
    with client.as_(None).get(photo["derivatives"][1]["url"]) as response:
        assert response.status_code == 200 and response.mimetype == "image/webp"


def test_a_tampered_foreign_or_expired_link_serves_nothing(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    job, _ = _processed_job(client, factories, uow_factory, config)
    (photo,) = _photos(client, job.scene.dispatcher_token, f"/v1/work-orders/{job.order_id}/photos")
    url = photo["derivatives"][0]["url"]
    anonymous = client.as_(None)

    tampered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    assert_problem(anonymous.get(tampered), 404, "media.link_invalid")
    link = BlobLink(
        job.scene.world.tenant_id, _sha_of(anonymous, url), "thumb", "image/webp", "x.webp", 0
    )
    foreign = LinkSigner("another-servers-secret-that-is-long-enough")
    link_now = BlobLink(**{**link.__dict__, "expires": int(time.time()) + 600})
    assert_problem(anonymous.get(f"/v1/media/{foreign.sign(link_now)}"), 404, "media.link_invalid")
    ours = LinkSigner(config.resolved_secret_key())
    expired = BlobLink(**{**link.__dict__, "expires": int(time.time()) - 1})
    assert_problem(anonymous.get(f"/v1/media/{ours.sign(expired)}"), 403, "media.link_expired")
    fresh = BlobLink(**{**link.__dict__, "expires": int(time.time()) + 600})
    with anonymous.get(f"/v1/media/{ours.sign(fresh)}") as response:
        assert response.status_code == 200  # the same link, in time and signed by us


def _sha_of(client: ApiClient, url: str) -> str:
    with client.get(url) as response:
        return sha(response.data)


def test_the_office_lists_an_assets_photos_across_its_orders(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    scene = factories.scene()
    asset = factories.asset(scene.world, scene.site)
    first = PhotoJob.start(client, factories, scene)
    second = PhotoJob.start(client, factories, scene)
    on_asset = [
        first.attach(camera_jpeg(color=(200, 0, 0)), asset_id=asset.id),
        second.attach(camera_jpeg(color=(0, 200, 0)), asset_id=asset.id),
    ]
    first.attach(camera_jpeg(color=(0, 0, 200)))  # on the order, not of the asset
    run_worker(uow_factory, config)

    photos = _photos(client, scene.dispatcher_token, f"/v1/assets/{asset.id}/photos")

    assert [p["id"] for p in photos] == [str(i) for i in on_asset]
    assert all(len(p["derivatives"]) == 2 for p in photos)
    other = factories.scene()
    assert_problem(
        client.as_(other.dispatcher_token).get(f"/v1/assets/{asset.id}/photos"),
        404,
        "asset.not_found",
    )


def test_annotations_are_validated_stored_and_rendered_over_an_upright_copy(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    job, photo_id = _processed_job(client, factories, uow_factory, config)
    office = client.as_(job.scene.dispatcher_token)
    url = f"/v1/work-orders/{job.order_id}/photos/{photo_id}/annotations"
    arrow = {"type": "arrow", "from": {"x": 0.1, "y": 0.9}, "to": {"x": 0.5, "y": 0.5}}
    circle = {"type": "circle", "center": {"x": 0.5, "y": 0.5}, "radius": 0.1, "color": "#00ff00"}
    text = {"type": "text", "at": {"x": 0.05, "y": 0.05}, "text": "阀门漏水 leak"}

    outside = {**arrow, "to": {"x": 1.5, "y": 0.5}}
    assert_problem(
        office.request("PUT", url, json={"shapes": [outside]}), 422, "request.validation_failed"
    )
    unknown = {"type": "star", "at": {"x": 0.5, "y": 0.5}}
    assert_problem(
        office.request("PUT", url, json={"shapes": [unknown]}), 422, "request.validation_failed"
    )
    customer = client.as_(job.scene.contact_token)
    assert customer.request("PUT", url, json={"shapes": [arrow]}).status_code in (403, 404)

    saved = office.request("PUT", url, json={"shapes": [arrow, circle, text]})
    assert saved.status_code == 200, saved.get_json()
    stored = saved.get_json()["annotations"]
    assert [s["type"] for s in stored] == ["arrow", "circle", "text"]
    assert stored[0]["color"] == "#ff3b30" and stored[0]["width"] == 0.006  # defaults kept
    run_worker(uow_factory, config)

    (photo,) = _photos(client, job.scene.dispatcher_token, f"/v1/work-orders/{job.order_id}/photos")
    kinds = {d["kind"]: d for d in photo["derivatives"]}
    assert set(kinds) == {"thumb", "display", "annotated"}
    annotated = kinds["annotated"]
    assert (annotated["width"], annotated["height"]) == (800, 1200)
    with client.as_(None).get(annotated["url"]) as response:
        image = Image.open(io.BytesIO(response.data)).convert("RGB")
    green = image.getpixel((round(0.5 * 799 + 0.1 * 1200), round(0.5 * 1199)))
    assert green[1] > 180 and green[0] < 100  # the circle's outline, where it was put
    with client.as_(None).get(kinds["display"]["url"]) as response:
        plain = Image.open(io.BytesIO(response.data)).convert("RGB")
    assert plain.getpixel((round(0.5 * 799 + 0.1 * 1200), round(0.5 * 1199)))[1] < 100

    cleared = office.request("PUT", url, json={"shapes": []})
    assert cleared.status_code == 200 and cleared.get_json()["annotations"] is None
    assert [d["kind"] for d in cleared.get_json()["derivatives"]] == ["thumb", "display"]


def test_the_office_lists_the_photos_that_illustrate_a_note(
    client: ApiClient, factories: Factories, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    job = PhotoJob.start(client, factories)
    note_id, photo_id, data = new_id(), new_id(), camera_jpeg()
    phone = job.device
    # The note and its photo go up in one push, the note first (§ 9: note_id).
    pushed = phone.push_ok(
        [
            phone.mutation(AddNote(note_id, job.order_id, "阀门漏水，见照片")),
            phone.mutation(
                AttachPhoto(
                    photo_id, job.order_id, sha(data), PhotoType.JPEG, len(data), note_id=note_id
                )
            ),
        ]
    )
    assert [r.status for r in pushed.receipts] == [Outcome.APPLIED, Outcome.APPLIED]
    job.upload(data)
    unrelated = job.attach(camera_jpeg(color=(0, 90, 200)))
    run_worker(uow_factory, config)
    office = job.scene.dispatcher_token

    (photo,) = _photos(client, office, f"/v1/work-orders/{job.order_id}/notes/{note_id}/photos")

    assert photo["id"] == str(photo_id) and photo["note_id"] == str(note_id)
    assert [d["kind"] for d in photo["derivatives"]] == ["thumb", "display"]
    listed = _photos(client, office, f"/v1/work-orders/{job.order_id}/photos")
    assert {p["id"]: p["note_id"] for p in listed} == {
        str(photo_id): str(note_id),
        str(unrelated): None,
    }
    # An internal note is not the customer's to read, nor are its photos.
    hidden = client.as_(job.scene.contact_token).get(
        f"/v1/work-orders/{job.order_id}/notes/{note_id}/photos"
    )
    assert_problem(hidden, 404, "evidence.not_found")
    # A note names photos of its own order only: another order's photo cannot claim it.
    other = PhotoJob.start(client, factories, job.scene)
    elsewhere = other.device.push_ok(
        [
            other.device.mutation(
                AttachPhoto(new_id(), other.order_id, sha(data), PhotoType.JPEG, len(data),
                            note_id=note_id)
            )
        ]
    )  # fmt: skip
    (receipt,) = elsewhere.receipts
    assert (receipt.status, receipt.code) == (Outcome.REJECTED, "sync.not_in_scope")
    wrong_order = client.as_(office).get(f"/v1/work-orders/{other.order_id}/notes/{note_id}/photos")
    assert_problem(wrong_order, 404, "evidence.not_found")
