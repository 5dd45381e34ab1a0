"""Sealing and verifying completion reports, and rendering their PDF.

In one process, in alternating rounds so both see the same machine:

* ``seal_verify``: a realistic completion report (an order with 12 status steps,
  30 evidence items and a signature; about 12 KB of canonical JSON) canonicalised
  with RFC 8785, hashed, Ed25519-signed, then verified as a verifier does (parse,
  re-canonicalise and compare, hash, check the signature);
* the baseline: bare Ed25519 sign + verify of 32 bytes.

Then the PDF service report of such a job with 10 photos, rendered as the worker
does (10 thumbnails of 320 px, the pipeline's ``thumb``) and from 10 camera
originals (1600 x 1200 JPEGs), each the median of several runs. Target: < 1 s.

Prints one JSON line. Run: ``python -m benchmarks.bench_seal``.
"""

from __future__ import annotations

import io
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from signatures.canonical import canonical_bytes
from signatures.pdf import Artwork, Photo, render_pdf
from signatures.render import render_png
from signatures.seal import seal, verify
from signatures.strokes import read_drawing

ROUNDS = 5
PER_ROUND = 200
PDF_RUNS = 5
KEY_ID = "01958e00-0000-7000-8000-00000000000a"
DRAWING = {
    "width": 600,
    "height": 200,
    "strokes": [
        [[20 + i * 5, 100 + (i % 7) * 8, i * 10, 0.5] for i in range(80)],
        [[100 + i * 4, 60 + (i % 5) * 10, 900 + i * 10, 0.6] for i in range(60)],
    ],
}


def sample_report() -> dict[str, Any]:
    item = {"author_kind": "user", "device_id": "01958e00-0000-7000-8000-0000000000d1"}
    steps = ["assign", "accept", "start_travel", "arrive", "start_work", "pause"] * 2
    return {
        "format": "fieldline.completion-report/1",
        "report": {"id": KEY_ID, "version": 1, "sealed_at": "2026-12-01T12:00:00Z"},
        "work_order": {
            "number": "WO-000042",
            "title": "空调不制冷 / AC not cooling",
            "resolution": "更换压缩机继电器" * 5,
        },
        "customer": {"name": "上海申通物业", "name_en": "Shentong Property"},
        "site": {
            "name": "静安寺广场",
            "address": "上海市静安区南京西路1686号",
            "lat": 31.2235,
            "lon": 121.4456,
        },
        "assets": [{"name": "开利冷水机组", "serial_number": "CX-2291-77"}],
        "timeline": [
            {"action": a, "to": a, "occurred_at": f"2026-12-01T0{i % 10}:00:00Z"}
            for i, a in enumerate(steps)
        ],
        "evidence": {
            "parts": [
                dict(item, description=f"Relay {i}", quantity="1", unit="pcs") for i in range(10)
            ],
            "readings": [
                dict(item, metric="pressure", value=f"{i}.25", unit="bar") for i in range(10)
            ],
            "photos": [
                dict(item, content_sha256="ab" * 32, caption=f"照片 {i}") for i in range(10)
            ],
        },
        "sign_off": {
            "outcome": "signed",
            "signer": {"name": "王芳", "role": "经理"},
            "consent_text": "本人确认上述工作已完成。",
            "signature_sha256": "cd" * 32,
            "occurred_at": "2026-12-01T11:58:00Z",
        },
    }


def _rate(run: Callable[[], Any]) -> float:
    start = time.perf_counter()
    for _ in range(PER_ROUND):
        run()
    return PER_ROUND / (time.perf_counter() - start)


def _seal_rates() -> tuple[float, float]:
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    report = sample_report()

    def seal_and_verify() -> None:
        data = canonical_bytes(report)
        assert verify(data, seal(data, KEY_ID, key), lambda _: public).valid

    def bare() -> None:
        public.verify(key.sign(b"\x01" * 32), b"\x01" * 32)

    sealed, baseline = [], []
    for _ in range(ROUNDS):
        baseline.append(_rate(bare))
        sealed.append(_rate(seal_and_verify))
    return statistics.median(sealed), statistics.median(baseline)


def _jpeg(size: tuple[int, int], shade: int) -> bytes:
    image = Image.new("RGB", size, (shade, 120, 200 - shade))
    for x in range(0, size[0], 40):  # some detail, so the JPEG is not trivially small
        image.paste((255 - shade, shade, 90), (x, 0, x + 8, size[1]))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _pdf_seconds(photos: list[Photo]) -> float:
    report = sample_report()
    art = Artwork(
        photos=photos,
        signature_png=render_png(read_drawing(DRAWING)),
        verify_url="https://fieldline.example/v/abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        seal={"algorithm": "Ed25519", "key_id": KEY_ID, "sha256": "ef" * 32},
    )
    times = []
    for _ in range(PDF_RUNS):
        start = time.perf_counter()
        render_pdf(report, art, "zh-CN")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    sealed, baseline = _seal_rates()
    thumbs = [Photo(f"照片 {i}", _jpeg((320, 240), i * 20)) for i in range(10)]
    originals = [Photo(f"照片 {i}", _jpeg((1600, 1200), i * 20)) for i in range(10)]
    result = {
        "benchmark": "seal",
        "report_bytes": len(canonical_bytes(sample_report())),
        "seal_verify_per_s": round(sealed, 1),
        "bare_ed25519_sign_verify_32b_per_s": round(baseline, 1),
        "ratio_seal_verify_to_bare": round(sealed / baseline, 3),
        "pdf_10_thumbnails_s": round(_pdf_seconds(thumbs), 3),
        "pdf_10_originals_s": round(_pdf_seconds(originals), 3),
        "pdf_target_s": 1.0,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
