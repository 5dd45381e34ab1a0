"""Stock tus clients upload photos to a real server (gunicorn, 2 workers): ``tuspy`` in
pieces with SHA-256 checksums, ``tuspy`` again through a connection that drops mid-body
and then resumes from the offset the server reports, and ``tus-js-client`` in Node.
Each upload ends as the content-addressed blob of PROTOCOL.md § 10. Two appends to one
upload at once: the second is 423 ``upload.locked`` while the first (a chunked body)
lands whole. Refusals carry the CORS and tus headers a browser needs to read them. An
append sent the way tus-java-client (tus-android-client) falls back to on JREs that refuse
PATCH (POST + X-HTTP-Method-Override, chunked, Expect: 100-continue) lands whole too.

``tests/tus/node_modules`` is installed from its ``package-lock.json`` when missing
(``./dev test`` does it before the suite).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import http.client
import io
import json
import random
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from PIL import Image
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError, TusUploadFailed
from tusclient.uploader import Uploader

from tests.e2e.test_work_order_lifecycle import Http
from tests.support.server import ADMIN_PASSWORD, FieldlineServer, TenantSpec

pytestmark = pytest.mark.e2e

NODE_DIR = Path(__file__).resolve().parents[1] / "tus"


class Sha256Uploader(Uploader):
    """tuspy as shipped, told to checksum with SHA-256 (its default is SHA-1)."""

    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


def photo(seed: int) -> bytes:
    """A real JPEG of about 2 MB (noise does not compress)."""
    noise = random.Random(seed).randbytes(900 * 800 * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (900, 800), noise).save(out, "JPEG", quality=95)
    return out.getvalue()


@pytest.fixture(scope="module")
def fieldline_server(
    e2e_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FieldlineServer]:
    """As in conftest, with 4 request threads per worker: appends to one upload can then
    meet in one process (threads) as well as in two (workers)."""
    workdir = tmp_path_factory.mktemp("e2e-server")
    with FieldlineServer(e2e_database_url, workdir, env={"FIELDLINE_THREADS": "4"}) as server:
        yield server


@pytest.fixture(scope="module")
def admin(fieldline_server: FieldlineServer) -> Http:
    http = Http(fieldline_server, fieldline_server.http())
    return http.log_in(TenantSpec().admin_email, ADMIN_PASSWORD)


def client_for(base_url: str, admin: Http) -> tus_client.TusClient:
    return tus_client.TusClient(
        f"{base_url}/v1/uploads", headers={"Authorization": f"Bearer {admin.token}"}
    )


def metadata(data: bytes) -> dict[str, str]:
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "filetype": "image/jpeg",
        "filename": "pump.jpg",
    }


def blob_stored(admin: Http, data: bytes) -> bool:
    sha256 = hashlib.sha256(data).hexdigest()
    return admin.call("HEAD", f"/v1/sync/blobs/{sha256}").status_code == 200


def test_tuspy_uploads_a_photo_in_checksummed_pieces(
    fieldline_server: FieldlineServer, admin: Http
) -> None:
    data = photo(1)
    uploader = Sha256Uploader(
        file_stream=io.BytesIO(data),
        client=client_for(fieldline_server.base_url, admin),
        chunk_size=512 * 1024,
        metadata=metadata(data),
        upload_checksum=True,
    )

    uploader.upload()

    assert uploader.offset == len(data)
    assert blob_stored(admin, data)


def test_tuspy_resumes_from_the_server_offset_after_the_connection_drops(
    fieldline_server: FieldlineServer, admin: Http
) -> None:
    data = photo(2)
    port = int(fieldline_server.base_url.rsplit(":", 1)[1])
    with CuttingProxy(port, cut_after=len(data) // 2) as proxy:
        first = Uploader(
            file_stream=io.BytesIO(data),
            client=client_for(f"http://127.0.0.1:{proxy.port}", admin),
            metadata=metadata(data),
        )
        with pytest.raises((TusCommunicationError, TusUploadFailed)):
            first.upload()
    url = first.url.replace(f":{proxy.port}/", f":{port}/")
    kept = settled_offset(admin, url)
    assert 0 < kept < len(data)

    resumed = Uploader(
        file_stream=io.BytesIO(data),
        client=client_for(fieldline_server.base_url, admin),
        url=url,
    )
    assert resumed.offset == kept  # from the server's HEAD: only the rest is sent
    resumed.upload()

    assert resumed.offset == len(data)
    assert blob_stored(admin, data)


def test_tus_js_client_uploads_a_photo(
    fieldline_server: FieldlineServer, admin: Http, tmp_path: Path
) -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed: ./dev test installs them")
    if not (NODE_DIR / "node_modules" / "tus-js-client").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=600
        )
    data = photo(3)
    path = tmp_path / "pump.jpg"
    path.write_bytes(data)

    done = subprocess.run(
        [
            "node",
            "upload.js",
            f"{fieldline_server.base_url}/v1/uploads",
            str(admin.token),
            str(path),
        ],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["offset"] == len(data)
    assert report["url"].startswith(f"{fieldline_server.base_url}/v1/uploads/")
    assert blob_stored(admin, data)


def settled_offset(admin: Http, url: str) -> int:
    """The offset once the server has noticed the cut (its request ends a moment later)."""
    deadline = time.monotonic() + 30
    while True:
        path = urlsplit(url).path
        response = admin.call("HEAD", path, headers={"Tus-Resumable": "1.0.0"})
        offset = int(response.headers["Upload-Offset"])
        if offset > 0 or time.monotonic() > deadline:
            return offset
        time.sleep(0.1)


class CuttingProxy:
    """A TCP proxy that closes both sides once ``cut_after`` bytes went client → server."""

    def __init__(self, target_port: int, cut_after: int) -> None:
        self.target_port = target_port
        self.cut_after = cut_after
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.threads: list[threading.Thread] = []

    def __enter__(self) -> CuttingProxy:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for args in ((downstream, upstream, True), (upstream, downstream, False)):
                thread = threading.Thread(target=self._pipe, args=args, daemon=True)
                thread.start()
                self.threads.append(thread)

    def _pipe(self, source: socket.socket, sink: socket.socket, counted: bool) -> None:
        sent = 0
        try:
            while chunk := source.recv(64 * 1024):
                if counted and sent + len(chunk) >= self.cut_after:
                    sink.sendall(chunk[: self.cut_after - sent])
                    break
                sink.sendall(chunk)
                sent += len(chunk) if counted else 0
        except OSError:
            pass
        for sock in (source, sink):
            _close(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def test_the_cleanup_command_removes_expired_uploads_only(
    fieldline_server: FieldlineServer, admin: Http
) -> None:
    data = photo(4)
    uploader = Uploader(
        file_stream=io.BytesIO(data),
        client=client_for(fieldline_server.base_url, admin),
        metadata=metadata(data),
    )
    uploader.upload(stop_at=1000)  # left unfinished, but far from expired

    output = fieldline_server.cli("uploads-expire")

    assert "0 expired uploads removed" in output
    path = urlsplit(uploader.url).path
    assert admin.call("HEAD", path, headers={"Tus-Resumable": "1.0.0"}).status_code == 200


def test_two_appends_to_one_upload_never_both_land(
    fieldline_server: FieldlineServer, admin: Http
) -> None:
    data = photo(5)
    url = admin_upload(fieldline_server, admin, data)
    half = len(data) // 2
    started, release = threading.Event(), threading.Event()

    def slow_body() -> Iterator[bytes]:  # chunked: a client streaming from a camera
        yield data[:65536]
        started.set()
        release.wait(30)
        yield data[65536:half]

    first: list[requests.Response] = []
    writer = threading.Thread(
        target=lambda: first.append(tus_patch(admin, url, 0, slow_body())), daemon=True
    )
    writer.start()
    assert started.wait(30)
    staged = fieldline_server.workdir / "data" / "uploads" / url.rsplit("/", 1)[1]
    wait_until_locked(staged)  # the first PATCH is writing: it holds the upload's lock
    second = tus_patch(admin, url, 0, data[:half])
    release.set()
    writer.join(30)

    assert second.status_code == 423, second.text
    assert second.json()["code"] == "upload.locked"
    assert first[0].status_code == 204, first[0].text
    assert first[0].headers["Upload-Offset"] == str(half)
    rest = tus_patch(admin, url, half, data[half:])
    assert rest.headers["Upload-Offset"] == str(len(data))
    assert blob_stored(admin, data)


def test_errors_carry_the_cors_and_tus_headers_a_browser_needs(
    fieldline_server: FieldlineServer,
) -> None:
    response = requests.post(
        fieldline_server.url("/v1/uploads"),
        headers={"Tus-Resumable": "1.0.0", "Origin": "https://app.example"},
        timeout=30,
    )

    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Upload-Offset" in response.headers["Access-Control-Expose-Headers"]
    assert response.headers["Tus-Resumable"] == "1.0.0"


def wait_until_locked(path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with path.open("rb") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return
            fcntl.flock(handle, fcntl.LOCK_UN)
        time.sleep(0.05)
    raise AssertionError(f"nobody took the lock on {path}")


def admin_upload(server: FieldlineServer, admin: Http, data: bytes) -> str:
    meta = ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}"
        for key, value in metadata(data).items()
    )
    created = admin.call(
        "POST",
        "/v1/uploads",
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(len(data)),
            "Upload-Metadata": meta,
        },
    )
    assert created.status_code == 201, created.text
    return urlsplit(created.headers["Location"]).path


def tus_patch(admin: Http, path: str, offset: int, body: Any) -> requests.Response:
    headers = {
        "Tus-Resumable": "1.0.0",
        "Content-Type": "application/offset+octet-stream",
        "Upload-Offset": str(offset),
    }
    return admin.call("PATCH", path, headers=headers, data=body)


def test_a_java_style_append_arrives_whole(fieldline_server: FieldlineServer, admin: Http) -> None:
    """What tus-java-client sends on a JRE that refuses PATCH: POST with
    X-HTTP-Method-Override, a chunked body and Expect: 100-continue."""
    data = photo(6)
    path = admin_upload(fieldline_server, admin, data)
    host, port = urlsplit(fieldline_server.base_url).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    pieces = (data[i : i + 2 * 1024 * 1024] for i in range(0, len(data), 2 * 1024 * 1024))
    connection.request(
        "POST",
        path,
        body=pieces,
        headers={
            "Authorization": f"Bearer {admin.token}",
            "Tus-Resumable": "1.0.0",
            "X-HTTP-Method-Override": "PATCH",
            "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": "0",
            "Expect": "100-continue",
        },
        encode_chunked=True,
    )
    response = connection.getresponse()

    assert response.status == 204, response.read()
    assert response.getheader("Upload-Offset") == str(len(data))
    connection.close()
    assert blob_stored(admin, data)
