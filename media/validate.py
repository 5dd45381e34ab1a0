"""Image validation before anything is kept: magic bytes, Pillow verify and full load, limits.

Every refusal carries a stable problem code (``media.*``) and the HTTP status the API maps
it to; a caller validates *before* it writes a blob row, an evidence row or a file, so a
refused upload leaves nothing behind.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image

MAX_PIXELS = 50_000_000
MAX_SIDE = 20_000

_SNIFF_BYTES = 1024
# Markers a browser would sniff as markup or script anywhere in the bytes (polyglots).
_MARKUP = re.compile(
    rb"<\s*(?:!doctype\s+html|html|head|body|script|svg|iframe|object|embed|\?xml)\b|javascript:",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ImageInfo:
    mime: str
    width: int
    height: int


class MediaRefused(ValueError):
    """The bytes are not an image the server keeps; nothing was stored."""

    code = "media.invalid"
    status = 422

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class UnsupportedType(MediaRefused):
    code = "media.unsupported_type"
    status = 415


class CorruptImage(MediaRefused):
    code = "media.corrupt"


class TooManyPixels(MediaRefused):
    code = "media.too_many_pixels"


class PolyglotImage(MediaRefused):
    code = "media.polyglot"


_HEIF_BRANDS = {b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis"}


def sniff(head: bytes) -> str | None:
    """The image type the leading bytes say, or ``None`` (never trusts names or headers)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in {
        b"heic",
        b"heix",
        b"mif1",
        b"msf1",
        b"heim",
        b"heis",
    }:
        return "image/heic" if head[8:12].startswith(b"he") else "image/heif"
    return None


_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


def validate_image(
    data: bytes, *, max_pixels: int = MAX_PIXELS, max_side: int = MAX_SIDE
) -> ImageInfo:
    """Check ``data`` is one whole image of a supported type, or raise a :class:`MediaRefused`."""
    mime = sniff(data[:_SNIFF_BYTES])
    if mime is None:
        raise UnsupportedType("the bytes are not a JPEG, PNG, WebP or HEIC/HEIF image")
    if _MARKUP.search(data):
        raise PolyglotImage("the image carries markup or script a browser could run")
    if mime in {"image/heic", "image/heif"}:
        try:
            import pillow_heif  # type: ignore[import-not-found, unused-ignore]

            pillow_heif.register_heif_opener()
        except ImportError as exc:
            raise UnsupportedType("HEIC/HEIF support is not installed") from exc
        formats = None
    else:
        formats = [_PIL_FORMATS[mime]]
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=formats) as probe:
                width, height = probe.size
                if width > max_side or height > max_side or width * height > max_pixels:
                    raise TooManyPixels(f"the image is {width}×{height} pixels, over the limit")
                probe.verify()
            with Image.open(io.BytesIO(data), formats=formats) as full:
                full.load()
        except MediaRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise TooManyPixels("the image decompresses to too many pixels") from exc
        except Exception as exc:  # Pillow raises many types for broken input
            raise CorruptImage("the image is truncated or corrupt") from exc
    return ImageInfo(mime=mime, width=width, height=height)
