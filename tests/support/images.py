"""Real image bytes for tests: uploads are validated, so fake "JPEG" bytes are refused."""

from __future__ import annotations

import hashlib
import io

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
