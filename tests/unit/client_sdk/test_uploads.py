"""The photo upload queue: content-addressed, HEAD before PUT, retried on its own."""

from __future__ import annotations

import hashlib
from pathlib import Path

from client_sdk.device import Device
from tests.unit.client_sdk.conftest import Wall
from tests.unit.client_sdk.fake_server import FakeServer


def _photo(tmp_path: Path, content: bytes = b"\x89PNG" + b"px" * 50) -> Path:
    path = tmp_path / "meter.png"
    path.write_bytes(content)
    return path


def test_attach_photo_keeps_a_copy_by_hash_and_records_the_mutation(
    device: Device, server: FakeServer, tmp_path: Path
) -> None:
    order = server.order()
    device.sync()
    path = _photo(tmp_path)
    mutation = device.attach_photo(order["id"], path, caption="meter")
    path.unlink()  # the technician deletes it from the gallery

    sha = hashlib.sha256(b"\x89PNG" + b"px" * 50).hexdigest()
    assert mutation.args["sha256"] == sha
    assert mutation.args["content_type"] == "image/png"
    assert mutation.args["size"] == 104
    assert (device.home / "blobs" / sha).read_bytes().startswith(b"\x89PNG")
    device.sync()
    assert server.blobs[sha].startswith(b"\x89PNG")


def test_bytes_the_server_already_has_are_not_sent_again(
    device: Device, server: FakeServer, tmp_path: Path
) -> None:
    order = server.order()
    device.sync()
    path = _photo(tmp_path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    server.blobs[sha] = path.read_bytes()  # uploaded earlier from another device
    device.attach_photo(order["id"], path)

    report = device.sync()

    assert report.uploads.present == 1
    assert ("PUT", f"/v1/sync/blobs/{sha}") not in server.calls


def test_a_failing_upload_never_blocks_the_outbox_and_is_retried_after_backoff(
    device: Device, server: FakeServer, tmp_path: Path, wall: Wall
) -> None:
    order = server.order()
    device.sync()
    device.attach_photo(order["id"], _photo(tmp_path))
    device.add_note(order["id"], "photo of the meter attached")
    server.fail_before = lambda path: 503 if path.startswith("/v1/sync/blobs/") else None

    report = device.sync()

    assert report.receipts == {"applied": 2}  # the mutations went through
    assert report.uploads.failed == 1
    assert device.uploads.pending() == 1
    server.fail_before = None
    assert device.sync().uploads.uploaded == 0  # backoff: not due yet
    wall.ms += 60_000
    assert device.sync().uploads.uploaded == 1
    assert device.uploads.pending() == 0
