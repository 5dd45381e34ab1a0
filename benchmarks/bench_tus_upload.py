"""tus upload throughput: 50 MB over HTTP to a real gunicorn ÷ a raw streaming copy to disk.

``python -m benchmarks.bench_tus_upload [--mb 50] [--repeats 3]``

Starts ``fieldline serve --workers 2`` (SQLite, in a temporary folder), then, in the
same run: the baseline copies the file to disk in 64 KiB chunks and fsyncs it, as
plainly as Python can; the tus runs create an upload and send the whole file, once
in one ``PATCH`` and once in 5 MiB ``PATCH``es (what a phone client does), timed from
the ``POST`` to the last answer, which comes after the bytes are staged, fsynced,
hashed into the blob store, validated as an image and recorded (the file is a real
JPEG of ``--mb`` MB: noise, so validation decodes as much data as it ever will).
Best of ``--repeats`` each. The server's peak RSS increase is the largest rise of a
worker's ``VmHWM`` over the tus runs, after a small warm-up upload. Prints ONE JSON
line (target: ratio ≥ 0.5, RSS increase ≤ 20 MB).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

import requests

from tests.support.images import big_jpeg, jpeg
from tests.support.server import ADMIN_PASSWORD, FieldlineServer, TenantSpec

CHUNK = 64 * 1024
MIB = 1024 * 1024


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


def _upload(base: str, token: str, source: Path, sha256: str, piece: int | None) -> float:
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
    offset = 0
    with source.open("rb") as body:
        while offset < size:
            length = size - offset if piece is None else min(piece, size - offset)
            answer = session.patch(
                url,
                data=_Slice(body, length),
                headers={
                    **headers,
                    "Content-Type": "application/offset+octet-stream",
                    "Content-Length": str(length),
                    "Upload-Offset": str(offset),
                },
                timeout=120,
            )
            if answer.status_code != 204:
                raise RuntimeError(f"PATCH answered {answer.status_code}: {answer.text}")
            offset = int(answer.headers["Upload-Offset"])
    return time.perf_counter() - start


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
        source.write_bytes(big_jpeg(args.mb))  # uploads keep only valid images
        sha256 = hashlib.sha256(source.read_bytes()).hexdigest()
        warmup = folder / "warmup.bin"
        warmup.write_bytes(jpeg("warm-up", (640, 480)))
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
            whole = min(
                _upload(server.base_url, token, source, sha256, None) for _ in range(args.repeats)
            )
            pieces = min(
                _upload(server.base_url, token, source, sha256, 5 * MIB)
                for _ in range(args.repeats)
            )
            rise = max(_peak_kib(pid) - before[pid] for pid in workers)
    megabytes = args.mb
    print(
        json.dumps(
            {
                "benchmark": "tus_upload",
                "megabytes": megabytes,
                "raw_copy_mb_per_s": round(megabytes / raw, 1),
                "tus_one_patch_mb_per_s": round(megabytes / whole, 1),
                "tus_5mib_patches_mb_per_s": round(megabytes / pieces, 1),
                "ratio": round(raw / whole, 2),
                "ratio_5mib_patches": round(raw / pieces, 2),
                "target": 0.5,
                "server_peak_rss_increase_mb": round(rise / 1024, 1),
                "rss_target_mb": 20,
            }
        )
    )


if __name__ == "__main__":
    main()
