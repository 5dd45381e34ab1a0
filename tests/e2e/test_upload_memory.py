"""Photo bytes stream through a real server (gunicorn) without being held in memory.

A 50 MB photo uploaded with tus in one ``PATCH`` and a photo at the simple PUT's 25 MiB
limit are each hashed, validated as an image and kept, and the worker's peak resident
memory (``VmHWM`` in ``/proc/<pid>/status``) rises by less than 20 MB over both.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sync_protocol.mutations import MAX_PHOTO_BYTES
from tests.support.images import big_jpeg, jpeg
from tests.support.server import ADMIN_PASSWORD, FieldlineServer, TenantSpec
from tests.support.workers import worker_pids

pytestmark = pytest.mark.e2e

MB = 1_000_000
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server(
    e2e_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FieldlineServer]:
    """One worker, so every upload lands in the process whose memory is measured."""
    env = {"FIELDLINE_UPLOAD_MAX_BYTES": str(64 * MIB), "FIELDLINE_ACCESS_TTL_SECONDS": "3600"}
    workdir = tmp_path_factory.mktemp("upload-memory")
    with FieldlineServer(e2e_database_url, workdir, workers=1, with_worker=False, env=env) as up:
        yield up


@pytest.fixture(scope="module")
def token(server: FieldlineServer) -> str:
    spec = TenantSpec()
    login = requests.post(
        server.url("/v1/auth/login"),
        json={"tenant": spec.slug, "email": spec.admin_email, "password": ADMIN_PASSWORD},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    return str(login.json()["access_token"])


def peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmHWM for {pid}")


def put(server: FieldlineServer, token: str, path: Path) -> requests.Response:
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    with path.open("rb") as body:  # requests streams an open file, Content-Length known
        return requests.put(
            server.url(f"/v1/sync/blobs/{sha256}"),
            data=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "image/jpeg"},
            timeout=120,
        )


def tus_upload(server: FieldlineServer, token: str, path: Path) -> requests.Response:
    """Create an upload and send the whole file in one PATCH; the PATCH's answer."""
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    pairs = {"sha256": sha256, "filetype": "image/jpeg"}
    metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())
    headers = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    size = path.stat().st_size
    created = requests.post(
        server.url("/v1/uploads"),
        headers={**headers, "Upload-Length": str(size), "Upload-Metadata": metadata},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    with path.open("rb") as body:
        return requests.patch(
            created.headers["Location"],
            data=body,
            headers={
                **headers,
                "Content-Type": "application/offset+octet-stream",
                "Upload-Offset": "0",
            },
            timeout=120,
        )


def stored(server: FieldlineServer, token: str, path: Path) -> bool:
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    answer = requests.head(
        server.url(f"/v1/sync/blobs/{sha256}"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    return answer.status_code == 200


def test_big_uploads_stream_through_a_worker_without_raising_its_peak_memory_by_20_mb(
    server: FieldlineServer, token: str, tmp_path: Path
) -> None:
    fifty = tmp_path / "fifty.jpg"
    fifty.write_bytes(big_jpeg(50))
    at_limit = tmp_path / "at-limit.jpg"
    at_limit.write_bytes(big_jpeg(24))
    assert fifty.stat().st_size >= 50 * MB
    assert 24 * MB <= at_limit.stat().st_size <= MAX_PHOTO_BYTES
    small = tmp_path / "small.jpg"
    small.write_bytes(jpeg("warm-up", (640, 480)))
    (worker,) = worker_pids(server.processes["serve"].pid)
    # Warm up both paths, so what is measured is the bytes, not the first import of Pillow.
    assert put(server, token, small).status_code == 201
    small.write_bytes(jpeg("warm-up again", (640, 480)))
    assert tus_upload(server, token, small).status_code == 204
    before = peak_kib(worker)

    put_answer = put(server, token, at_limit)
    tus_answer = tus_upload(server, token, fifty)

    rise_mb = (peak_kib(worker) - before) / 1024
    assert put_answer.status_code == 201, put_answer.text
    assert tus_answer.status_code == 204, tus_answer.text
    assert stored(server, token, at_limit) and stored(server, token, fifty)
    assert rise_mb < 20, f"peak RSS rose by {rise_mb:.1f} MB"
