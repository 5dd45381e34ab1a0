"""Photo pipeline: a 12-megapixel JPEG to thumbnail + display WebP, draft mode beside naive.

``python -m benchmarks.bench_photo_pipeline --photos 10``

Both runs use one process (one core); the naive run decodes the full image. Prints ONE
JSON line with photos per second per core for each and their ratio (target ≥ 10).
"""

from __future__ import annotations

import argparse
import io
import json
import time

from PIL import Image

from media.derive import make_derivatives


def _photo() -> bytes:
    img = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _rate(data: bytes, n: int, *, draft: bool) -> float:
    start = time.process_time()
    for _ in range(n):
        make_derivatives(data, draft=draft)
    return n / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=10)
    args = parser.parse_args()
    data = _photo()
    draft = _rate(data, args.photos, draft=True)
    naive = _rate(data, max(2, args.photos // 3), draft=False)
    print(
        json.dumps(
            {
                "benchmark": "photo_pipeline",
                "megapixels": 12,
                "draft_photos_per_s_per_core": round(draft, 2),
                "naive_photos_per_s_per_core": round(naive, 2),
                "ratio": round(draft / naive, 2),
                "target": 10,
            }
        )
    )


if __name__ == "__main__":
    main()
