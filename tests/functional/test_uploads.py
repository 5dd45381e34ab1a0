"""``/v1/uploads``: resumable photo uploads over tus 1.0. A photo's bytes arrive in pieces,
resume from the server's offset, and become the content-addressed blob of PROTOCOL.md § 10
only when whole and true to their declared SHA-256; every refusal keeps nothing."""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import shutil
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from api.config import Config
from api.db import UnitOfWorkFactory, utcnow
from api.errors.problem import status_for
from api.evidence.errors import MEDIA_ERRORS
from api.uploads import errors, services
from api.uploads.models import TusUpload
from media import tus, validate
from media.blobs import FilesystemBlobStore
from tests.functional.test_sync_blobs import (
    JPEG,
    JPEG_SHA,
    assigned_order,
    attach,
    blob_rows,
    photo_state,
    stored_files,
)
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.factories.workorders import Scene
from tests.support.images import noise_jpeg
from tests.support.push import Device

V1 = {"Tus-Resumable": "1.0.0"}
OCTETS = {**V1, "Content-Type": "application/offset+octet-stream"}


def metadata(sha256: str = JPEG_SHA, filetype: str = "image/jpeg", **more: str) -> str:
    pairs = {"sha256": sha256, "filetype": filetype, "filename": "pump.jpg", **more}
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


def create(api: ApiClient, length: int = len(JPEG), **headers: str) -> TestResponse:
    sent = {**V1, "Upload-Length": str(length), "Upload-Metadata": metadata(), **headers}
    return api.request("POST", "/v1/uploads", headers=sent)


def location(api: ApiClient, **headers: str) -> str:
    response = create(api, **headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.headers["Location"].removeprefix("http://localhost")


def patch(api: ApiClient, url: str, offset: int, data: bytes, **headers: str) -> TestResponse:
    sent = {**OCTETS, "Upload-Offset": str(offset), **headers}
    return api.request("PATCH", url, data=data, headers=sent)


def head(api: ApiClient, url: str) -> TestResponse:
    return api.request("HEAD", url, headers=V1)


def sha256_header(data: bytes) -> str:
    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


def staged(config: Config) -> list[str]:
    root = config.resolved_upload_dir()
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


@pytest.fixture(autouse=True)
def _empty_staging(config: Config) -> Iterator[None]:
    """The staging folder is the session's; each test starts with it empty, and leaves
    no upload's running state behind."""
    shutil.rmtree(config.resolved_upload_dir(), ignore_errors=True)
    yield
    tus.RUNNING.clear()


@pytest.fixture
def scene(factories: Factories) -> Scene:
    return factories.scene()


@pytest.fixture
def tech(client: ApiClient, scene: Scene) -> ApiClient:
    return client.as_(scene.technician_token)


def test_options_advertise_tus_and_its_extensions_without_credentials(client: ApiClient) -> None:
    response = client.request("OPTIONS", "/v1/uploads")

    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) == {
        "creation",
        "creation-with-upload",
        "termination",
        "checksum",
        "expiration",
    }
    assert response.headers["Tus-Max-Size"] == str(25 * 1024 * 1024)
    assert response.headers["Tus-Checksum-Algorithm"] == "sha256"
    assert "Upload-Offset" in response.headers["Access-Control-Allow-Headers"]
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    preflight = client.request("OPTIONS", f"/v1/uploads/{uuid.uuid4()}")  # before a PATCH
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"


def test_a_photo_uploaded_in_two_pieces_becomes_ready(
    tech: ApiClient,
    scene: Scene,
    factories: Factories,
    uow_factory: UnitOfWorkFactory,
    config: Config,
) -> None:
    photo_id = attach(Device(tech), assigned_order(factories, scene).id)
    created = create(tech)
    assert created.status_code == 201
    assert created.headers["Tus-Resumable"] == "1.0.0"
    assert "Upload-Expires" in created.headers
    assert "Upload-Offset" in created.headers["Access-Control-Expose-Headers"]
    url = created.headers["Location"].removeprefix("http://localhost")

    first = patch(tech, url, 0, JPEG[:1000])
    assert (first.status_code, first.headers["Upload-Offset"]) == (204, "1000")
    progress = head(tech, url)
    assert progress.headers["Upload-Offset"] == "1000"
    assert progress.headers["Upload-Length"] == str(len(JPEG))
    assert progress.headers["Cache-Control"] == "no-store"
    assert tus.parse_metadata(progress.headers["Upload-Metadata"])["filename"] == "pump.jpg"
    assert photo_state(uow_factory, photo_id) == "pending"

    last = patch(tech, url, 1000, JPEG[1000:])

    assert (last.status_code, last.headers["Upload-Offset"]) == (204, str(len(JPEG)))
    assert photo_state(uow_factory, photo_id) == "ready"
    assert stored_files(config, scene.world.tenant_id) == [JPEG_SHA]
    assert staged(config) == []
    # A client that lost the last answer asks again and sees the upload finished.
    assert head(tech, url).headers["Upload-Offset"] == str(len(JPEG))


def test_one_append_may_be_larger_than_an_ordinary_request_body(
    tech: ApiClient, config: Config
) -> None:
    data = noise_jpeg((1200, 1000))  # past FIELDLINE_MAX_BODY_BYTES (1 MiB)
    sha256 = hashlib.sha256(data).hexdigest()
    url = location(tech, **{"Upload-Length": str(len(data)), "Upload-Metadata": metadata(sha256)})

    response = patch(tech, url, 0, data)

    assert response.status_code == 204, response.get_data(as_text=True)
    assert response.headers["Upload-Offset"] == str(len(data))
    assert config.max_body_bytes < len(data)


def test_clients_that_cannot_send_patch_or_delete_may_override_a_post(tech: ApiClient) -> None:
    url = location(tech)
    sent = {**OCTETS, "Upload-Offset": "0", "X-HTTP-Method-Override": "PATCH"}

    appended = tech.request("POST", url, data=JPEG[:100], headers=sent)

    assert appended.headers["Upload-Offset"] == "100"
    removed = tech.request("POST", url, headers={**V1, "X-HTTP-Method-Override": "DELETE"})
    assert removed.status_code == 204
    assert head(tech, url).status_code == 404
    elsewhere = tech.request("POST", "/v1/uploads", headers={**V1, "X-HTTP-Method-Override": "GET"})
    assert_problem(elsewhere, 400, "upload.invalid_header")  # still a POST: no Upload-Length


def test_creation_with_upload_stores_the_body_sent_with_the_post(
    tech: ApiClient, scene: Scene, uow_factory: UnitOfWorkFactory
) -> None:
    response = tech.request(
        "POST",
        "/v1/uploads",
        data=JPEG,
        headers={**OCTETS, "Upload-Length": str(len(JPEG)), "Upload-Metadata": metadata()},
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers["Upload-Offset"] == str(len(JPEG))
    assert blob_rows(uow_factory, scene.world.tenant_id) == 1


def test_without_tus_resumable_the_request_is_refused_with_the_supported_version(
    tech: ApiClient, config: Config
) -> None:
    response = tech.request("POST", "/v1/uploads", headers={"Upload-Length": "10"})

    assert_problem(response, 412, "upload.version_unsupported")
    assert response.headers["Tus-Version"] == "1.0.0"
    assert staged(config) == []


def test_an_append_at_the_wrong_offset_is_refused_and_changes_nothing(tech: ApiClient) -> None:
    url = location(tech)
    patch(tech, url, 0, JPEG[:100])

    for offset in (0, 50, 200):
        assert_problem(patch(tech, url, offset, JPEG[offset:]), 409, "upload.offset_mismatch")

    assert head(tech, url).headers["Upload-Offset"] == "100"


def test_a_body_that_fails_its_checksum_is_refused_and_none_of_it_is_kept(
    tech: ApiClient, config: Config
) -> None:
    url = location(tech)
    upload_id = url.rsplit("/", 1)[-1]

    refused = patch(tech, url, 0, JPEG[:500], **{"Upload-Checksum": sha256_header(b"other")})

    assert_problem(refused, 460, "upload.checksum_mismatch")
    assert head(tech, url).headers["Upload-Offset"] == "0"
    assert (config.resolved_upload_dir() / upload_id).stat().st_size == 0
    checked = patch(tech, url, 0, JPEG[:500], **{"Upload-Checksum": sha256_header(JPEG[:500])})
    assert checked.headers["Upload-Offset"] == "500"


def test_checksums_other_than_sha256_and_malformed_headers_are_refused(tech: ApiClient) -> None:
    url = location(tech)
    md5 = patch(tech, url, 0, JPEG[:10], **{"Upload-Checksum": "md5 AAAA"})
    assert_problem(md5, 400, "upload.checksum_algorithm_unsupported")
    assert_problem(patch(tech, url, -1, b"x"), 400, "upload.invalid_header")
    assert_problem(create(tech, **{"Upload-Metadata": "sha256 !!!"}), 400, "upload.invalid_header")
    no_length = tech.request("POST", "/v1/uploads", headers={**V1, "Upload-Metadata": metadata()})
    assert_problem(no_length, 400, "upload.invalid_header")
    assert_problem(create(tech, length=0), 400, "upload.invalid_header")
    nul = create(tech, **{"Upload-Metadata": metadata(filename="pump\x00.jpg")})
    assert_problem(nul, 400, "upload.invalid_header")
    plain = tech.request(
        "PATCH", url, data=b"x", headers={**V1, "Upload-Offset": "0", "Content-Type": "image/jpeg"}
    )
    assert_problem(plain, 415, "upload.unsupported_media_type")
    assert head(tech, url).headers["Upload-Offset"] == "0"


def test_uploads_must_name_a_photo_hash_and_type(tech: ApiClient, config: Config) -> None:
    no_hash = create(tech, **{"Upload-Metadata": metadata(sha256="abc")})
    assert_problem(no_hash, 422, "upload.metadata_invalid")
    pdf = create(tech, **{"Upload-Metadata": metadata(filetype="application/pdf")})
    assert_problem(pdf, 415, "upload.unsupported_media_type")
    assert staged(config) == []


def test_too_large_uploads_and_bodies_past_the_length_are_refused(
    tech: ApiClient, config: Config
) -> None:
    assert_problem(create(tech, length=25 * 1024 * 1024 + 1), 413, "upload.too_large")
    url = location(tech)

    over = patch(tech, url, 0, JPEG + b"extra")

    assert_problem(over, 413, "upload.too_large")
    assert head(tech, url).headers["Upload-Offset"] == "0"
    assert (config.resolved_upload_dir() / url.rsplit("/", 1)[-1]).stat().st_size == 0


def test_bytes_that_do_not_hash_to_the_declared_sha256_are_not_stored(
    tech: ApiClient, scene: Scene, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    url = location(tech)
    forged = b"\xff\xd8" + b"\0" * (len(JPEG) - 2)

    refused = patch(tech, url, 0, forged)

    assert_problem(refused, 422, "upload.hash_mismatch")
    assert blob_rows(uow_factory, scene.world.tenant_id) == 0
    assert stored_files(config, scene.world.tenant_id) == []
    assert staged(config) == []
    assert head(tech, url).status_code == 404


def test_another_tenant_or_user_cannot_see_touch_or_delete_an_upload(
    client: ApiClient, tech: ApiClient, scene: Scene, factories: Factories
) -> None:
    url = location(tech)
    patch(tech, url, 0, JPEG[:10])
    _, _, colleague_token = factories.technician_user(scene.world)
    stranger = factories.scene()
    for other in (client.as_(colleague_token), client.as_(stranger.technician_token)):
        assert head(other, url).status_code == 404
        assert_problem(patch(other, url, 10, JPEG[10:]), 404, "upload.not_found")
        assert_problem(other.request("DELETE", url, headers=V1), 404, "upload.not_found")

    assert head(tech, url).headers["Upload-Offset"] == "10"


def test_a_terminated_upload_is_gone_with_its_bytes(tech: ApiClient, config: Config) -> None:
    url = location(tech)
    patch(tech, url, 0, JPEG[:10])

    assert tech.request("DELETE", url, headers=V1).status_code == 204

    assert head(tech, url).status_code == 404
    assert_problem(patch(tech, url, 10, JPEG[10:]), 404, "upload.not_found")
    assert staged(config) == []


def test_an_append_while_another_is_writing_is_refused_as_locked(
    tech: ApiClient, config: Config
) -> None:
    url = location(tech)
    upload_id = uuid.UUID(url.rsplit("/", 1)[-1])

    with tus.StagingArea(config.resolved_upload_dir()).locked(upload_id):
        assert_problem(patch(tech, url, 0, JPEG[:10]), 423, "upload.locked")
        assert_problem(tech.request("DELETE", url, headers=V1), 423, "upload.locked")

    assert head(tech, url).headers["Upload-Offset"] == "0"
    assert patch(tech, url, 0, JPEG[:10]).headers["Upload-Offset"] == "10"


def test_an_expired_upload_is_refused_then_removed_by_the_cleanup(
    tech: ApiClient, uow_factory: UnitOfWorkFactory, config: Config, app: Any
) -> None:
    url = location(tech)
    patch(tech, url, 0, JPEG[:10])
    upload_id = uuid.UUID(url.rsplit("/", 1)[-1])
    with uow_factory() as unit:
        past = utcnow() - timedelta(minutes=1)
        unit.session.execute(update(TusUpload).values(expires_at=past))
        unit.commit()

    assert_problem(patch(tech, url, 10, JPEG[10:]), 410, "upload.expired")
    assert head(tech, url).status_code == 410

    removed = services.expire_uploads(uploads(uow_factory, config), utcnow())

    assert removed == 1
    assert head(tech, url).status_code == 404
    assert str(upload_id) not in staged(config)


def test_a_broken_connection_keeps_what_arrived_so_the_client_can_resume(
    tech: ApiClient, scene: Scene, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    url = location(tech)
    upload_id = uuid.UUID(url.rsplit("/", 1)[-1])
    actor = actor_of(uow_factory, upload_id, scene)
    box = uploads(uow_factory, config)

    cut = services.Chunk(0, None, len(JPEG), CutAfter(JPEG, 3000))
    services.append_chunk(box, actor, upload_id, cut, utcnow())
    assert head(tech, url).headers["Upload-Offset"] == "3000"
    checked = services.Chunk(
        3000, tus.parse_checksum(sha256_header(JPEG[3000:])), None, CutAfter(JPEG[3000:], 10)
    )
    services.append_chunk(box, actor, upload_id, checked, utcnow())
    assert head(tech, url).headers["Upload-Offset"] == "3000"  # unverifiable: dropped

    finished = patch(tech, url, 3000, JPEG[3000:])

    assert finished.headers["Upload-Offset"] == str(len(JPEG))
    assert stored_files(config, scene.world.tenant_id) == [JPEG_SHA]


class CutAfter(io.RawIOBase):
    """A request body whose connection drops after ``limit`` bytes."""

    def __init__(self, data: bytes, limit: int) -> None:
        self.data, self.limit, self.position = data, limit, 0

    def read(self, size: int = -1, /) -> bytes:
        if self.position >= self.limit:
            raise ConnectionError("connection reset by peer")
        chunk = self.data[self.position : min(self.position + size, self.limit)]
        self.position += len(chunk)
        return chunk


def uploads(
    uow_factory: UnitOfWorkFactory,
    config: Config,
    digests: tus.RunningDigests = tus.RUNNING,
) -> services.Uploads:
    return services.Uploads(
        uow_factory,
        tus.StagingArea(config.resolved_upload_dir()),
        FilesystemBlobStore(config.resolved_blob_dir()),
        config.upload_max_bytes,
        digests,
    )


def actor_of(uow_factory: UnitOfWorkFactory, upload_id: uuid.UUID, scene: Scene) -> Any:
    from api.auth.actor import Actor
    from api.auth.permissions import Role

    with uow_factory.reader() as unit:
        owner = unit.session.scalar(select(TusUpload.owner_id).where(TusUpload.id == upload_id))
    return Actor(tenant_id=scene.world.tenant_id, role=Role.TECHNICIAN, user_id=owner)


def test_staged_files_of_no_upload_are_swept(tmp_path: Path) -> None:
    area = tus.StagingArea(tmp_path)
    kept, orphan = uuid.uuid4(), uuid.uuid4()
    area.create(kept)
    area.create(orphan)

    assert area.sweep({kept}, older_than=float("inf")) == 1

    assert [p.name for p in tmp_path.iterdir()] == [str(kept)]


def _first_pieces_on_two_workers(
    uow_factory: UnitOfWorkFactory, config: Config, actor: Any, upload_id: uuid.UUID, data: bytes
) -> tus.RunningDigests:
    """Bytes 0-2000 appended on one worker, 2000-4000 on another; the first worker's
    running state (which never saw the second piece) is returned."""
    first, other = tus.RunningDigests(), tus.RunningDigests()
    for digests, start, end in ((first, 0, 2000), (other, 2000, 4000)):
        piece = services.Chunk(start, None, end - start, io.BytesIO(data[start:end]))
        services.append_chunk(
            uploads(uow_factory, config, digests), actor, upload_id, piece, utcnow()
        )
    return first


def test_pieces_that_reach_a_worker_without_the_running_hash_are_hashed_from_the_file(
    tech: ApiClient, scene: Scene, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    """Each worker keeps its own running hashes: an upload whose middle piece went to
    another worker is hashed from the staged file at the end, so wrong bytes are still
    refused and right ones still kept."""
    forged = JPEG[:2000] + bytes(b ^ 0xFF for b in JPEG[2000:4000]) + JPEG[4000:]
    for body, expected in ((forged, 422), (JPEG, 204)):
        url = location(tech)
        upload_id = uuid.UUID(url.rsplit("/", 1)[-1])
        actor = actor_of(uow_factory, upload_id, scene)
        first = _first_pieces_on_two_workers(uow_factory, config, actor, upload_id, body)
        rest = services.Chunk(4000, None, len(body) - 4000, io.BytesIO(body[4000:]))
        box = uploads(uow_factory, config, first)  # its running hash stops at 2000
        if expected == 422:
            with pytest.raises(errors.UploadHashMismatch):
                services.append_chunk(box, actor, upload_id, rest, utcnow())
            assert stored_files(config, scene.world.tenant_id) == []
        else:
            services.append_chunk(box, actor, upload_id, rest, utcnow())
            assert stored_files(config, scene.world.tenant_id) == [JPEG_SHA]


def test_a_completion_that_cannot_be_recorded_leaves_the_bytes_to_resume_from(
    tech: ApiClient,
    scene: Scene,
    uow_factory: UnitOfWorkFactory,
    config: Config,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = location(tech)
    upload_id = uuid.UUID(url.rsplit("/", 1)[-1])
    assert patch(tech, url, 0, JPEG[:3000]).status_code == 204
    actor = actor_of(uow_factory, upload_id, scene)

    def database_gone(*_: object) -> bool:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(services, "record_blob", database_gone)
    last = services.Chunk(3000, None, len(JPEG) - 3000, io.BytesIO(JPEG[3000:]))
    with pytest.raises(ConnectionError):
        services.append_chunk(uploads(uow_factory, config), actor, upload_id, last, utcnow())
    monkeypatch.undo()

    assert head(tech, url).headers["Upload-Offset"] == "3000"
    assert (config.resolved_upload_dir() / str(upload_id)).read_bytes() == JPEG[:3000]
    finished = patch(tech, url, 3000, JPEG[3000:])
    assert finished.headers["Upload-Offset"] == str(len(JPEG))
    assert stored_files(config, scene.world.tenant_id) == [JPEG_SHA]


def test_pieces_received_by_one_worker_are_hashed_as_they_arrive_not_read_again(
    tech: ApiClient, scene: Scene, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_second_pass(*_: object) -> None:
        raise AssertionError("the staged file was read again to hash it")

    monkeypatch.setattr(hashlib, "file_digest", no_second_pass)
    url = location(tech)
    assert patch(tech, url, 0, JPEG[:1500]).status_code == 204

    finished = patch(tech, url, 1500, JPEG[1500:])

    assert finished.headers["Upload-Offset"] == str(len(JPEG))
    assert stored_files(config, scene.world.tenant_id) == [JPEG_SHA]


POLYGLOT = JPEG + b"<script>alert(1)</script>"
POLYGLOT_SHA = hashlib.sha256(POLYGLOT).hexdigest()


@pytest.mark.parametrize("workers", ["one worker", "middle piece on another worker"])
def test_markup_split_across_pieces_is_refused_as_a_polyglot_and_nothing_is_kept(
    workers: str, tech: ApiClient, scene: Scene, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    """The markup scan runs while the bytes arrive (and from the file when a worker
    missed some of them): a script tag cut in two by the pieces is still found."""
    url = location(
        tech, **{"Upload-Length": str(len(POLYGLOT)), "Upload-Metadata": metadata(POLYGLOT_SHA)}
    )
    upload_id = uuid.UUID(url.rsplit("/", 1)[-1])
    actor = actor_of(uow_factory, upload_id, scene)
    cut = len(JPEG) + 4  # "<scr" | "ipt>…"
    first = tus.RunningDigests()
    other = first if workers == "one worker" else tus.RunningDigests()
    for digests, start, end in ((first, 0, cut - 100), (other, cut - 100, cut)):
        piece = services.Chunk(start, None, end - start, io.BytesIO(POLYGLOT[start:end]))
        services.append_chunk(
            uploads(uow_factory, config, digests), actor, upload_id, piece, utcnow()
        )
    rest = services.Chunk(cut, None, len(POLYGLOT) - cut, io.BytesIO(POLYGLOT[cut:]))

    with pytest.raises(MEDIA_ERRORS) as raised:
        services.append_chunk(uploads(uow_factory, config, first), actor, upload_id, rest, utcnow())

    assert (raised.value.code, status_for(raised.value)) == ("media.polyglot", 422)
    assert blob_rows(uow_factory, scene.world.tenant_id) == 0
    assert stored_files(config, scene.world.tenant_id) == []
    assert staged(config) == []


def test_a_polyglot_sent_in_two_patches_is_refused_over_http(
    tech: ApiClient, scene: Scene, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    url = location(
        tech, **{"Upload-Length": str(len(POLYGLOT)), "Upload-Metadata": metadata(POLYGLOT_SHA)}
    )
    cut = len(JPEG) + 4
    assert patch(tech, url, 0, POLYGLOT[:cut]).status_code == 204

    refused = patch(tech, url, cut, POLYGLOT[cut:])

    assert_problem(refused, 422, "media.polyglot")
    assert blob_rows(uow_factory, scene.world.tenant_id) == 0
    assert stored_files(config, scene.world.tenant_id) == []
    assert staged(config) == []


def corrupted(data: bytes) -> bytes:
    """``data`` with bytes in the middle of its entropy-coded data overwritten by
    start-of-frame markers: still a JPEG by its header, refused once walked (and by a
    decode: libjpeg stops at a second frame)."""
    middle = len(data) // 2
    return data[:middle] + b"\xff\xc0" * 200 + data[middle + 400 :]


@pytest.fixture
def no_read_of_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """A JPEG received by one worker is scanned and walked as it arrives: the staged file
    is not read again for it, nor decoded."""

    def from_the_file(*_: object) -> None:
        raise AssertionError("the staged file was read again")

    monkeypatch.setattr(validate, "_read_through", from_the_file)
    monkeypatch.setattr(validate, "_decode", from_the_file)


@pytest.mark.usefixtures("no_read_of_the_file")
def test_a_jpeg_received_by_one_worker_is_checked_as_it_arrives(
    tech: ApiClient, scene: Scene, config: Config
) -> None:
    url = location(tech)
    *pieces, last = range(0, len(JPEG), 1500)
    for start in pieces:
        assert patch(tech, url, start, JPEG[start : start + 1500]).status_code == 204

    finished = patch(tech, url, last, JPEG[last:])

    assert finished.status_code == 204
    assert stored_files(config, scene.world.tenant_id) == [JPEG_SHA]


@pytest.mark.usefixtures("no_read_of_the_file")
@pytest.mark.parametrize("damage", ["corrupt", "truncated"])
def test_a_broken_jpeg_sent_in_several_patches_is_refused_and_nothing_is_kept(
    damage: str, tech: ApiClient, scene: Scene, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    body = corrupted(JPEG) if damage == "corrupt" else JPEG[: len(JPEG) * 2 // 3]
    sha256 = hashlib.sha256(body).hexdigest()
    url = location(tech, **{"Upload-Length": str(len(body)), "Upload-Metadata": metadata(sha256)})
    cuts = [0, len(body) // 4, len(body) // 2, len(body) * 3 // 4, len(body)]
    for start, end in itertools.pairwise(cuts[:-1]):
        assert patch(tech, url, start, body[start:end]).status_code == 204

    refused = patch(tech, url, cuts[-2], body[cuts[-2] :])

    assert_problem(refused, 422, "media.corrupt")
    assert head(tech, url).status_code == 404
    assert blob_rows(uow_factory, scene.world.tenant_id) == 0
    assert stored_files(config, scene.world.tenant_id) == []
    assert staged(config) == []


@pytest.mark.parametrize("body", ["good", "corrupt"])
def test_a_jpeg_whose_pieces_went_to_two_workers_is_checked_from_the_file(
    body: str, tech: ApiClient, scene: Scene, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    """The first worker walked the first piece; the second piece went to another worker,
    so the walk the first one kept cannot see every byte: the whole file is scanned and
    walked at the end (the verdict is the same as on one worker)."""
    data = JPEG if body == "good" else corrupted(JPEG)
    sha256 = hashlib.sha256(data).hexdigest()
    url = location(tech, **{"Upload-Length": str(len(data)), "Upload-Metadata": metadata(sha256)})
    upload_id = uuid.UUID(url.rsplit("/", 1)[-1])
    actor = actor_of(uow_factory, upload_id, scene)
    first = _first_pieces_on_two_workers(uow_factory, config, actor, upload_id, data)
    rest = services.Chunk(4000, None, len(data) - 4000, io.BytesIO(data[4000:]))
    box = uploads(uow_factory, config, first)

    if body == "good":
        services.append_chunk(box, actor, upload_id, rest, utcnow())
        assert stored_files(config, scene.world.tenant_id) == [JPEG_SHA]
    else:
        with pytest.raises(MEDIA_ERRORS) as raised:
            services.append_chunk(box, actor, upload_id, rest, utcnow())
        assert raised.value.code == "media.corrupt"
        assert stored_files(config, scene.world.tenant_id) == []
        assert staged(config) == []


def test_a_terminated_upload_leaves_no_running_state_and_no_bytes(
    tech: ApiClient, config: Config
) -> None:
    url = location(tech)
    upload_id = uuid.UUID(url.rsplit("/", 1)[-1])
    assert patch(tech, url, 0, JPEG[:3000]).status_code == 204

    assert tech.request("DELETE", url, headers=V1).status_code == 204

    assert tus.RUNNING.take(upload_id, 3000) is None
    assert staged(config) == []


def test_an_expired_upload_leaves_no_running_state_and_no_bytes(
    tech: ApiClient, uow_factory: UnitOfWorkFactory, config: Config
) -> None:
    url = location(tech)
    upload_id = uuid.UUID(url.rsplit("/", 1)[-1])
    assert patch(tech, url, 0, JPEG[:3000]).status_code == 204
    with uow_factory() as unit:
        past = utcnow() - timedelta(minutes=1)
        unit.session.execute(update(TusUpload).values(expires_at=past))
        unit.commit()

    assert services.expire_uploads(uploads(uow_factory, config), utcnow()) == 1

    assert tus.RUNNING.take(upload_id, 3000) is None
    assert staged(config) == []
