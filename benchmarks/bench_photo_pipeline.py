"""Photo pipeline: a 12-megapixel JPEG to thumbnail + display WebP, draft mode beside naive.

``python -m benchmarks.bench_photo_pipeline --photos 20``

The photo is camera-like: smooth colour fields with photographic (sensor-like) noise,
4000×3000, JPEG quality 90, about 3 MB, as a phone writes them. A flat gradient would
flatter the decoder (almost no DCT coefficients to decode). Both runs use one process
(one core) and count CPU time: ``draft`` is the server's path (:mod:`media.derive`,
JPEG DCT scaling), ``naive`` decodes the full 12 megapixels and then shrinks.
``pipeline`` is the whole outbox job's engine (:func:`media.pipeline.process_photo`:
also EXIF metadata and the blurhash/colour placeholder). Prints ONE JSON line with
photos per second per core for each and the draft/naive ratio (target ≥ 10 photos/s).
"""

from __future__ import annotations

import argparse
import io
import json
import time
from collections.abc import Callable

from PIL import Image

from media.derive import make_derivatives
from media.pipeline import process_photo

WIDTH, HEIGHT = 4000, 3000


def camera_like_jpeg(width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """Smooth random colour fields plus fine noise, saved as a JPEG at quality 90."""
    fields = [
        Image.effect_noise((width // 40, height // 40), 60).resize(
            (width, height), Image.Resampling.BICUBIC
        )
        for _ in range(3)
    ]
    grain = Image.effect_noise((width, height), 18)
    img = Image.merge("RGB", [Image.blend(channel, grain, 0.25) for channel in fields])
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _rate(work: Callable[[], object], n: int) -> float:
    work()  # warm-up: first-call costs (codec set-up) are not per photo
    start = time.process_time()
    for _ in range(n):
        work()
    return n / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=20)
    args = parser.parse_args()
    data = camera_like_jpeg()
    draft = _rate(lambda: make_derivatives(data, draft=True), args.photos)
    naive = _rate(lambda: make_derivatives(data, draft=False), max(3, args.photos // 3))
    pipeline = _rate(lambda: process_photo(data), max(3, args.photos // 2))
    print(
        json.dumps(
            {
                "benchmark": "photo_pipeline",
                "megapixels": WIDTH * HEIGHT / 1e6,
                "jpeg_bytes": len(data),
                "draft_photos_per_s_per_core": round(draft, 2),
                "naive_photos_per_s_per_core": round(naive, 2),
                "ratio": round(draft / naive, 2),
                "pipeline_photos_per_s_per_core": round(pipeline, 2),
                "target": 10,
            }
        )
    )


if __name__ == "__main__":
    main()
