"""Real image bytes for tests: uploads are validated, so fake "JPEG" bytes are refused."""

from __future__ import annotations

import hashlib
import io
import random

from PIL import Image


def jpeg(label: str = "photo", size: tuple[int, int] = (32, 24)) -> bytes:
    """A small, valid JPEG whose bytes differ for each ``label``."""
    return image(label, "JPEG", size)


def image(label: str, fmt: str, size: tuple[int, int] = (32, 24)) -> bytes:
    """A valid ``fmt`` image (JPEG, PNG, WEBP, HEIF), coloured by ``label``."""
    seed = hashlib.sha256(label.encode()).digest()
    pixels = (seed * (3 * size[0] * size[1] // len(seed) + 1))[: 3 * size[0] * size[1]]
    out = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(out, fmt)
    return out.getvalue()


def noise_jpeg(size: tuple[int, int], seed: int = 0) -> bytes:
    """A valid JPEG of random pixels: as big as a photo of that size gets (noise does not
    compress), e.g. about 1.4 MB at 1200×1000."""
    pixels = random.Random(seed).randbytes(3 * size[0] * size[1])
    out = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(out, "JPEG", quality=95)
    return out.getvalue()


def big_jpeg(megabytes: float, seed: int = 0) -> bytes:
    """A valid JPEG of at least ``megabytes`` MB and few pixels (4000 wide, noise at
    quality 100 without chroma subsampling: about 4 bytes a pixel, so 50 MB is 12.5
    megapixels, 36 MB to encode here)."""
    width = 4000
    height = int(megabytes * 1_000_000 / (3.9 * width)) + 1
    pixels = random.Random(seed).randbytes(3 * width * height)
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), pixels).save(out, "JPEG", quality=100, subsampling=0)
    data = out.getvalue()
    assert len(data) >= megabytes * 1_000_000, len(data)
    return data
