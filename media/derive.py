"""Derivatives of a photo: EXIF orientation applied, metadata stripped, WebP sizes.

JPEGs are decoded with Pillow's draft mode (libjpeg's DCT scaling): a 12-megapixel
photo whose largest derivative is at most half its size is decoded at 1/2, 1/4 or
1/8 scale straight from the compressed data, the smallest scale that still covers
that derivative, instead of being decoded whole and then shrunk. libjpeg also
scales by 3/8: when that lands within 10 % under the largest size (a 4000-pixel
photo becomes 1500 for the 1600 display size), the image is decoded at 3/8 and used
as it comes, so no resize pass is left at all (:func:`_scale_jpeg`). Otherwise what
is left to shrink is at most a factor of two, done by area averaging (see
:func:`shrink`); each smaller size is then made from the one before it. A derivative is saved
without EXIF and XMP (Pillow's WebP writer only embeds what it is handed), so GPS
and capture time never leave the server in one; the ICC profile is kept, so a
wide-gamut (Display P3) photo keeps its colours.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from dataclasses import dataclass

from PIL import Image, ImageFile, ImageOps

SIZES: Mapping[str, int] = {"thumb": 320, "display": 1600}
WEBP_QUALITY = 80
# libwebp's fastest method: at quality 80 its files are about 10 % larger than
# method 2's and it encodes in roughly half the time (benchmarks/bench_photo_pipeline.py).
WEBP_METHOD = 0
_ORIENTATION = 0x0112
# A decode at 3/8 scale is used as the largest derivative when its long side is at
# least this share of the size asked for (and, of course, not above it).
NEAR_ENOUGH = 0.9


@dataclass(frozen=True)
class Derivative:
    name: str
    width: int
    height: int
    data: bytes
    mime: str = "image/webp"


def make_derivatives(
    data: bytes, sizes: Mapping[str, int] | None = None, *, draft: bool = True
) -> list[Derivative]:
    """WebP derivatives no larger than each size on their long side, upright, without EXIF."""
    sizes = sizes or SIZES
    with Image.open(io.BytesIO(data)) as img:
        upright = open_upright(img, max(sizes.values()), draft=draft)
    derivatives, _ = render(upright, sizes)
    return derivatives


def open_upright(img: Image.Image, largest: int, *, draft: bool = True) -> Image.Image:
    """``img`` decoded (at a reduced scale when that still covers ``largest`` pixels on
    the long side), in RGB, turned as its EXIF orientation says, without EXIF or XMP."""
    if draft and img.format == "JPEG" and isinstance(img, ImageFile.ImageFile):
        _scale_jpeg(img, largest)
    icc = img.info.get("icc_profile")
    rgb = img if img.mode == "RGB" else img.convert("RGB")
    rgb.load()
    # exif_transpose copies even an image it does not turn: only call it when it turns.
    turns = img.getexif().get(_ORIENTATION, 1) in range(2, 9)
    upright = (ImageOps.exif_transpose(rgb) or rgb) if turns else rgb
    for key in ("exif", "xmp", "XML:com.adobe.xmp"):
        upright.info.pop(key, None)
    if icc:
        upright.info["icc_profile"] = icc
    return upright


def _scale_jpeg(img: ImageFile.ImageFile, largest: int) -> None:
    """Set ``img`` (a JPEG not yet loaded) to decode at a reduced scale for ``largest``.

    Pillow's :meth:`~PIL.Image.Image.draft` offers 1/2, 1/4 and 1/8 (the smallest one
    that still covers ``largest``). Pillow's JPEG decoder hands libjpeg the scale as
    ``1/n``, and libjpeg(-turbo) rounds ``1/3`` up to its 3/8 DCT scaling, which
    ``draft`` never asks for: it is set here when it gives a long side between
    :data:`NEAR_ENOUGH` × ``largest`` and ``largest`` (a 4000×3000 photo decodes to
    1500×1125 for the 1600 display size, with no resize after it). Sizes round up, as
    libjpeg's do (``jdiv_round_up``).
    """
    long_side = max(img.size)
    three_eighths = math.ceil(long_side * 3 / 8)
    tile = img.tile
    if (
        NEAR_ENOUGH * largest <= three_eighths <= largest
        and len(tile) == 1
        and tile[0].codec_name == "jpeg"
        and not img.decoderconfig
    ):
        width, height = math.ceil(img.width * 3 / 8), math.ceil(img.height * 3 / 8)
        x0, y0 = tile[0].extents[:2] if tile[0].extents else (0, 0)
        img.tile = [tile[0]._replace(extents=(x0, y0, x0 + width, y0 + height))]
        img._size = (width, height)
        img.decoderconfig = (3, 0)  # libjpeg: scale_num 1, scale_denom 3 -> 3/8
        return
    scale = min(1.0, largest / long_side)
    img.draft("RGB", (math.ceil(img.width * scale), math.ceil(img.height * scale)))


def render(upright: Image.Image, sizes: Mapping[str, int]) -> tuple[list[Derivative], Image.Image]:
    """Each size of ``upright`` as WebP, largest first; and the smallest image made."""
    out: list[Derivative] = []
    source = upright
    for name, side in sorted(sizes.items(), key=lambda kv: -kv[1]):
        copy = shrink(source, side)
        source = copy  # each smaller size is made from the one before it
        out.append(encode(name, copy, icc=upright.info.get("icc_profile")))
    return out, source


def encode(name: str, image: Image.Image, *, icc: bytes | None = None) -> Derivative:
    """``image`` as a WebP derivative called ``name`` (no EXIF, no XMP)."""
    buf = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    image.save(buf, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD, **extra)
    return Derivative(name, image.width, image.height, buf.getvalue())


def shrink(image: Image.Image, side: int) -> Image.Image:
    """``image`` no larger than ``side`` on its long side.

    Integer factors go by :meth:`~PIL.Image.Image.reduce` (an exact area average,
    and cheap); what is left, less than a factor of two, by a box filter, which is
    area averaging too at that ratio (as OpenCV's INTER_AREA) and a third cheaper
    than bilinear on a 2000 → 1600 step.
    """
    ratio = side / max(image.size)
    if ratio >= 1:
        return image.copy()
    size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
    factor = int(1 / ratio)
    if factor >= 2:
        image = image.reduce(factor)
    if image.size == size:
        return image
    return image.resize(size, Image.Resampling.BOX)


PORTRAIT_SIZES: Mapping[str, int] = {"small": 96, "large": 320}


def make_portraits(data: bytes, sizes: Mapping[str, int] | None = None) -> list[Derivative]:
    """Square WebP portraits of a profile photo, upright, without EXIF: the largest
    centred square, a little above the middle (where a face is in a portrait)."""
    sizes = sizes or PORTRAIT_SIZES
    largest = max(sizes.values())
    with Image.open(io.BytesIO(data)) as img:
        # Decoded so that the *short* side still covers the largest portrait (also when
        # the decode stops short by up to NEAR_ENOUGH).
        needed = largest * max(img.size) / min(img.size) / NEAR_ENOUGH
        upright = open_upright(img, math.ceil(needed))
    side = min(upright.size)
    left = (upright.width - side) // 2
    top = round((upright.height - side) * 0.4)
    square = upright.crop((left, top, left + side, top + side))
    square.info.update(upright.info)
    derivatives, _ = render(square, sizes)
    return derivatives
