"""tus upload throughput: 50 MB over HTTP to a real gunicorn ÷ a raw streaming copy to disk.

``python -m benchmarks.bench_tus_upload [--mb 50] [--repeats 3]``

Starts ``fieldline serve --workers 2`` (SQLite, in a temporary folder), then, in the
same run: the baseline copies the file to disk in 64 KiB chunks and fsyncs it, as
plainly as Python can; the tus runs create an upload and send the file, once in one
``PATCH`` and once in 5 MiB ``PATCH``es (what a phone client does), timed from the
``POST`` to the last answer. The file is a real JPEG (uploads are validated as
images), sent as all bytes but the last, then the last on its own, so the line
shows both halves: ``staged_ratio`` is the raw copy ÷ getting the bytes into the
staging area (HTTP, disk, fsync), ``last_byte_s`` what the last byte costs (the
blob store re-reads, hashes and keeps the bytes and :mod:`media.validate` decodes
the whole image), and ``ratio`` the raw copy ÷ the whole upload. Best of
``--repeats`` each. The server's peak RSS increase is the largest rise of a worker's
``VmHWM`` over the tus runs, after a small warm-up upload. Prints ONE JSON line
(targets: ratio ≥ 0.5, RSS increase ≤ 20 MB).
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
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import requests
from PIL import Image

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
        with server:
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
            before = {pid: _peak_kib(pid) for pid in workers}
            raw = min(_raw_copy(source, folder / "copy.bin") for _ in range(args.repeats))
            whole = [
                _upload(server.base_url, token, source, sha256, None) for _ in range(args.repeats)
            ]
            pieces = [
                _upload(server.base_url, token, source, sha256, 5 * MIB)
                for _ in range(args.repeats)
            ]
            rise = max(_peak_kib(pid) - before[pid] for pid in workers)
    megabytes = round(source_size / 1e6, 1)
    best_total = min(t.total for t in whole)
    best_staged = min(t.staged for t in whole)
    print(
        json.dumps(
            {
                "benchmark": "tus_upload",
                "megabytes": megabytes,
                "raw_copy_mb_per_s": round(megabytes / raw, 1),
                "tus_one_patch_mb_per_s": round(megabytes / best_total, 1),
                "tus_5mib_patches_mb_per_s": round(megabytes / min(t.total for t in pieces), 1),
                "ratio": round(raw / best_total, 3),
                "ratio_5mib_patches": round(raw / min(t.total for t in pieces), 3),
                "target": 0.5,
                "staged_ratio": round(raw / best_staged, 2),
                "staged_ratio_5mib_patches": round(raw / min(t.staged for t in pieces), 2),
                "last_byte_s": round(min(t.total - t.staged for t in whole), 2),
                "server_peak_rss_increase_mb": round(rise / 1024, 1),
                "rss_target_mb": 20,
            }
        )
    )


if __name__ == "__main__":
    main()
