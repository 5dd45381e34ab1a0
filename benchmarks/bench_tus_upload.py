"""tus upload throughput: 50 MB over HTTP to a real gunicorn ÷ a raw streaming copy to disk.

``python -m benchmarks.bench_tus_upload [--mb 50] [--repeats 3]``

Starts ``fieldline serve --workers 2`` (SQLite, in a temporary folder) and the bare
baseline app (benchmarks/hello_app.py) under the same gunicorn settings, then, in the
same run and interleaved, ``--repeats`` times each:

- ``raw_copy``: the file copied to disk in 64 KiB chunks and fsynced, as plainly as
  Python can (page cache to page cache: no HTTP at all);
- ``http_copy``: the file ``PUT`` to the baseline app's ``/raw-upload``, which streams
  the body to a file and fsyncs it: a raw streaming copy to disk over the same HTTP
  stack, the like-for-like floor for "an upload over HTTP";
- tus: an upload created and sent once in one ``PATCH`` and once in 5 MiB ``PATCH``es
  (what a phone client does), timed from the ``POST`` to the last answer.

The file is a real JPEG (uploads are validated as images), sent as all bytes but the
last, then the last on its own, so the line shows both halves: ``staged_*`` is
getting the bytes into the staging area (HTTP, disk, fsync, and the running SHA-256,
markup scan and JPEG structure walk of :mod:`media.jpeg_check`, all fed the same reads),
``last_byte_s`` what the last byte costs (Pillow opening the file's header, the rename
into the blob store, the database).
``ratio`` divides by the raw file copy, ``ratio_to_http_copy`` by the HTTP copy;
``sha256_mb_per_s``, ``markup_scan_s``, ``jpeg_walk_s``, ``validate_from_file_s`` (one
pass with both, as when an upload's pieces reached two workers) and, for comparison,
``eighth_scale_decode_s`` (the decode of every block that validation ran before the
walk) are measured on the same file in this process. Medians of ``--repeats``. The
server's peak RSS increase is the largest rise of a worker's ``VmHWM`` over the tus
runs, after a small warm-up upload. Prints ONE JSON line (targets: ratio ≥ 0.5, read
as ``ratio_to_http_copy``, see benchmarks/README.md; RSS increase ≤ 20 MB).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import BinaryIO

import requests
from PIL import Image

from benchmarks.run import hello_server
from media.jpeg_check import JpegCheck
from media.validate import MAX_PIXELS, MAX_SIDE, MarkupScan, validate_image
from tests.support.server import ADMIN_PASSWORD, FieldlineServer, TenantSpec

CHUNK = 64 * 1024
MIB = 1024 * 1024


def _photo(megabytes: int) -> bytes:
    """A real JPEG of about ``megabytes`` MB (uploads are validated as images): noise at
    quality 100 without chroma subsampling takes about 4.1 bytes a pixel."""
    pixels = megabytes * 1_000_000 * 10 // 41
    width = int((pixels * 4 / 3) ** 0.5)
    height = pixels // width
    noise = random.Random(0).randbytes(width * height * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), noise).save(out, "JPEG", quality=100, subsampling=0)
    return out.getvalue()


def _raw_copy(source: Path, target: Path) -> float:
    start = time.perf_counter()
    with source.open("rb") as src, target.open("wb") as out:
        while chunk := src.read(CHUNK):
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    elapsed = time.perf_counter() - start
    target.unlink()
    return elapsed


def _metadata(sha256: str) -> str:
    pairs = {"sha256": sha256, "filetype": "image/jpeg", "filename": "big.jpg"}
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


@dataclass(frozen=True)
class Timing:
    staged: float  # POST, then every byte but the last in the staging area (fsynced)
    total: float  # ... and the last byte: hash, image validation, blob store, database


def _upload(base: str, token: str, source: Path, sha256: str, piece: int | None) -> Timing:
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    size = source.stat().st_size
    start = time.perf_counter()
    created = session.post(
        f"{base}/v1/uploads",
        headers={**headers, "Upload-Length": str(size), "Upload-Metadata": _metadata(sha256)},
        timeout=60,
    )
    created.raise_for_status()
    url = created.headers["Location"]
    offset, staged = 0, 0.0
    with source.open("rb") as body:
        while offset < size:
            end = size - 1 if offset < size - 1 else size  # the last byte goes on its own
            length = end - offset if piece is None else min(piece, end - offset)
            answer = session.patch(
                url,
                data=_Slice(body, length),
                headers={
                    **headers,
                    "Content-Type": "application/offset+octet-stream",
                    "Content-Length": str(length),
                    "Upload-Offset": str(offset),
                },
                timeout=300,
            )
            if answer.status_code != 204:
                raise RuntimeError(f"PATCH answered {answer.status_code}: {answer.text}")
            offset = int(answer.headers["Upload-Offset"])
            if offset == size - 1:
                staged = time.perf_counter() - start
    return Timing(staged, time.perf_counter() - start)


class _Slice:
    """``length`` bytes of an open file, which requests streams (it knows the length)."""

    def __init__(self, body: BinaryIO, length: int) -> None:
        self.body, self.left, self.len = body, length, length

    def read(self, size: int = -1) -> bytes:
        want = self.left if size < 0 else min(size, self.left)
        chunk = self.body.read(want)
        self.left -= len(chunk)
        return chunk


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def _peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _http_copy(url: str, source: Path) -> float:
    """The raw streaming copy over the same HTTP stack: ``PUT /raw-upload`` on the bare
    baseline app (body to a file in 1 MiB reads, fsync; see benchmarks/hello_app.py)."""
    size = source.stat().st_size
    with requests.Session() as session, source.open("rb") as body:
        start = time.perf_counter()
        answer = session.put(
            f"{url}raw-upload", data=_Slice(body, size), headers={"Content-Length": str(size)}
        )
        elapsed = time.perf_counter() - start
    if answer.status_code != 200 or answer.json()["written"] != size:
        raise RuntimeError(f"raw upload answered {answer.status_code}: {answer.text}")
    return elapsed


def _in_process(source: Path) -> dict[str, float]:
    """What the upload's CPU work costs in this process, for the line's explanation: the
    SHA-256, the markup scan and the JPEG structure walk of the file, fed 1 MiB at a
    time (all three taken while the bytes arrive), the whole validation from the file
    (what an upload whose pieces reached two workers does at the end), and, for
    comparison, the 1/8-scale decode of every block that validation did before the walk."""
    data = source.read_bytes()
    pieces = [data[at : at + MIB] for at in range(0, len(data), MIB)]

    def timed(work: Callable[[], object]) -> float:
        start = time.perf_counter()
        work()
        return time.perf_counter() - start

    def walk() -> None:
        check = JpegCheck(MAX_PIXELS, MAX_SIDE)
        for piece in pieces:
            check.update(piece)
        check.result()

    def scan() -> None:
        markup = MarkupScan()
        for piece in pieces:
            markup.update(piece)

    def validate() -> None:
        with source.open("rb") as kept:
            validate_image(kept)

    def decode() -> None:
        with Image.open(io.BytesIO(data)) as image:
            image.draft(image.mode, (image.width // 8, image.height // 8))
            image.load()

    return {
        "sha256_mb_per_s": round(len(data) / 1e6 / timed(lambda: hashlib.sha256(data).digest())),
        "markup_scan_s": round(timed(scan), 3),
        "jpeg_walk_s": round(timed(walk), 3),
        "validate_from_file_s": round(timed(validate), 3),
        "eighth_scale_decode_s": round(timed(decode), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tus-") as tmp:
        folder = Path(tmp)
        source = folder / "source.bin"
        source.write_bytes(_photo(args.mb))
        sha256 = hashlib.sha256(source.read_bytes()).hexdigest()
        source_size = source.stat().st_size
        warmup = folder / "warmup.bin"
        warmup.write_bytes(_photo(1))
        server = FieldlineServer(
            f"sqlite:///{folder / 'fieldline.db'}",
            folder / "fieldline",
            workers=2,
            with_worker=False,
            env={
                "FIELDLINE_UPLOAD_MAX_BYTES": str(128 * MIB),
                "FIELDLINE_ACCESS_TTL_SECONDS": "3600",
            },
        )
        os.environ["FIELDLINE_BENCH_RAW_DIR"] = str(folder)
        with server, hello_server(folder) as hello:
            login = requests.post(
                server.url("/v1/auth/login"),
                json={
                    "tenant": TenantSpec().slug,
                    "email": TenantSpec().admin_email,
                    "password": ADMIN_PASSWORD,
                },
                timeout=30,
            )
            token = login.json()["access_token"]
            warm_sha = hashlib.sha256(warmup.read_bytes()).hexdigest()
            workers = _workers(server.processes["serve"].pid)
            for _ in workers:  # each worker runs the upload path once before measuring
                _upload(server.base_url, token, warmup, warm_sha, None)
            _http_copy(hello, warmup)
            before = {pid: _peak_kib(pid) for pid in workers}
            raw, http, whole, pieces = [], [], [], []
            for _ in range(args.repeats):  # interleaved, so background load hits all alike
                raw.append(_raw_copy(source, folder / "copy.bin"))
                http.append(_http_copy(hello, source))
                whole.append(_upload(server.base_url, token, source, sha256, None))
                pieces.append(_upload(server.base_url, token, source, sha256, 5 * MIB))
            rise = max(_peak_kib(pid) - before[pid] for pid in workers)
        in_process = _in_process(source)
    megabytes = round(source_size / 1e6, 1)
    raw_s, http_s = median(raw), median(http)
    total, staged = median(t.total for t in whole), median(t.staged for t in whole)
    pieces_total = median(t.total for t in pieces)
    print(
        json.dumps(
            {
                "benchmark": "tus_upload",
                "megabytes": megabytes,
                "runs": args.repeats,
                "raw_copy_mb_per_s": round(megabytes / raw_s, 1),
                "http_copy_mb_per_s": round(megabytes / http_s, 1),
                "tus_one_patch_mb_per_s": round(megabytes / total, 1),
                "tus_5mib_patches_mb_per_s": round(megabytes / pieces_total, 1),
                "ratio": round(raw_s / total, 3),
                "ratio_5mib_patches": round(raw_s / pieces_total, 3),
                "ratio_to_http_copy": round(http_s / total, 3),
                "ratio_to_http_copy_5mib_patches": round(http_s / pieces_total, 3),
                "target": 0.5,
                "staged_ratio": round(raw_s / staged, 2),
                "staged_ratio_to_http_copy": round(http_s / staged, 2),
                "last_byte_s": round(median(t.total - t.staged for t in whole), 3),
                **in_process,
                "server_peak_rss_increase_mb": round(rise / 1024, 1),
                "rss_target_mb": 20,
            }
        )
    )


if __name__ == "__main__":
    main()
