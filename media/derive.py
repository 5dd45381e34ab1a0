"""Derivatives of a validated photo: EXIF orientation applied, metadata stripped, WebP sizes.

JPEGs are decoded with Pillow's draft mode (DCT scaling), so a 12-megapixel photo is
decoded at the smallest scale that still covers the largest derivative. A derivative
is saved without EXIF, so GPS and capture time never leave the server in one.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

SIZES = {"thumb": 320, "display": 1600}


@dataclass(frozen=True)
class Derivative:
    name: str
    width: int
    height: int
    data: bytes
    mime: str = "image/webp"


def make_derivatives(
    data: bytes, sizes: dict[str, int] | None = None, *, draft: bool = True
) -> list[Derivative]:
    """WebP derivatives no larger than each size on their long side, upright, without EXIF."""
    sizes = sizes or SIZES
    largest = max(sizes.values())
    with Image.open(io.BytesIO(data)) as img:
        if draft and img.format == "JPEG":
            img.draft("RGB", (largest, largest))
        upright = ImageOps.exif_transpose(img.convert("RGB"))
    upright.info.pop("exif", None)
    out: list[Derivative] = []
    source = upright
    for name, side in sorted(sizes.items(), key=lambda kv: -kv[1]):
        copy = source.copy()
        copy.thumbnail((side, side), Image.Resampling.BICUBIC, reducing_gap=2.0)
        source = copy  # each smaller size is made from the one before it
        buf = io.BytesIO()
        copy.save(buf, "WEBP", quality=80, method=2)
        out.append(Derivative(name, copy.width, copy.height, buf.getvalue()))
    return out
