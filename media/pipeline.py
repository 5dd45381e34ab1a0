"""The photo pipeline's engine: one original in, everything the server keeps about it out.

:func:`process_photo` decodes the original once (draft mode for JPEGs, see
:mod:`media.derive`), reads its EXIF position and capture time
(:mod:`media.exif`), applies its orientation, renders the WebP derivatives and a
placeholder (:mod:`media.placeholder`). It is pure: bytes in, a value out; where
the results are stored is the caller's business. An original that is not a whole
image of a supported type raises a :class:`~media.validate.MediaRefused` with a
stable code, never anything else, so a worker can mark the photo failed and go on.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

from PIL import Image

from media.derive import SIZES, Derivative, open_upright, render
from media.exif import PhotoMetadata, read_metadata
from media.placeholder import Placeholder, placeholder
from media.validate import (
    MAX_PIXELS,
    MAX_SIDE,
    CorruptImage,
    MediaRefused,
    TooManyPixels,
    UnsupportedType,
    sniff,
)

_PIL_FORMATS = {"image/jpeg": ["JPEG"], "image/png": ["PNG"], "image/webp": ["WEBP"]}


@dataclass(frozen=True)
class ProcessedPhoto:
    width: int  # of the original, upright
    height: int
    metadata: PhotoMetadata
    derivatives: tuple[Derivative, ...]
    placeholder: Placeholder


def process_photo(data: bytes, sizes: Mapping[str, int] = SIZES) -> ProcessedPhoto:
    """Derivatives, metadata and placeholder of ``data``, or a :class:`MediaRefused`."""
    formats = _formats(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=formats) as img:
                width, height = img.size
                if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
                    raise TooManyPixels(f"the image is {width}×{height} pixels, over the limit")
                metadata = read_metadata(img.getexif())
                turned = _turned(img)
                upright = open_upright(img, max(sizes.values()))
            derivatives, smallest = render(upright, sizes)
        except MediaRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise TooManyPixels("the image decompresses to too many pixels") from exc
        except Exception as exc:  # Pillow raises many types for broken input
            raise CorruptImage("the image is truncated or corrupt") from exc
    if turned:
        width, height = height, width
    return ProcessedPhoto(width, height, metadata, tuple(derivatives), placeholder(smallest))


def _formats(data: bytes) -> list[str] | None:
    mime = sniff(data[:1024])
    if mime is None:
        raise UnsupportedType("the bytes are not a JPEG, PNG, WebP or HEIC/HEIF image")
    if mime in _PIL_FORMATS:
        return _PIL_FORMATS[mime]
    try:
        import pillow_heif  # type: ignore[import-not-found, unused-ignore]

        pillow_heif.register_heif_opener()
    except ImportError as exc:
        raise UnsupportedType("HEIC/HEIF support is not installed") from exc
    return None


def _turned(img: Image.Image) -> bool:
    """Whether the EXIF orientation turns the image a quarter (width and height swap)."""
    return img.getexif().get(0x0112) in (5, 6, 7, 8)
