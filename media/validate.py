"""Image validation before anything is kept: magic bytes, Pillow verify and full load, limits.

Every refusal carries a stable problem code (``media.*``) and the HTTP status the API maps
it to; a caller validates *before* it writes a blob row, an evidence row or a file, so a
refused upload leaves nothing behind. :func:`check_image` fits ``BlobStore.put``'s
``check``: the store hands it the verified bytes on local disk before they become visible.

Validation reads from a file, never the whole body into memory: the type comes from
the first bytes, the markup scan reads 1 MiB at a time (or was fed the bytes as they
arrived: :class:`MarkupScan`), and Pillow decodes from the
file. A JPEG is decoded at 1/8 scale (its draft mode still reads every entropy-coded
block, so a truncated or broken file fails as it would at full size), so judging a
12-megapixel photo costs about 0.6 MB of pixels instead of 36 MB; PNG, WebP and
HEIC/HEIF are decoded whole, so their cost is bounded by :data:`MAX_PIXELS`.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from typing import BinaryIO

import pillow_heif
from PIL import Image

MAX_PIXELS = 50_000_000
MAX_SIDE = 20_000

# HEIC/HEIF through libheif: Image.open recognises it once the opener is registered.
pillow_heif.register_heif_opener()

_SNIFF_BYTES = 1024
SCAN_BYTES = 1024 * 1024  # read at a time by the markup scan
_SCAN_OVERLAP = 1024  # longer than any marker, so one split across two reads is still seen
# Markup a browser would run if the bytes were ever read as HTML, anywhere in them
# (polyglots): an opening tag closed after printable text, or a script URL.
# Compressed pixel data is close to random; requiring the tag to close keeps a chance
# match to about once in 100 GB of it (a bare "<svg" is there once in 500 MB). "<?xml" is
# not on the list: XMP metadata legitimately starts with it, and a file only parses as
# XML if it starts as XML, which no accepted image type does.
_TAGS = rb"!doctype\s+html|html|head|body|script|svg|iframe|object|embed"
# One literal first byte ("<") lets the regex engine skip ahead fast; a script URL is
# looked for in a lowercased copy, which is several times faster than an IGNORECASE
# regex (the whole scan costs about 0.3 s per 50 MB here).
_TAG = re.compile(rb"<(?:" + _TAGS + rb")(?:>|[\s/][\x09-\x0d\x20-\x7e]{0,512}?>)", re.IGNORECASE)
_SCRIPT_URL = b"javascript:"


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


# ISO BMFF brands of HEIF images (not sequences): HEVC-coded ones are HEIC.
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis"}
_HEIF_BRANDS = {b"mif1", b"msf1"}


def sniff(head: bytes) -> str | None:
    """The image type the leading bytes say, or ``None`` (never trusts names or headers)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS:
        return "image/heic"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image/heif"
    return None


_PIL_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
}


class MarkupScan:
    """The markup scan of :func:`validate_image` over bytes fed in order, in pieces of any
    size (a tus upload feeds it as the bytes arrive, so the last byte need not read the
    file again for it). ``found`` once any markup was seen."""

    def __init__(self) -> None:
        self.found = False
        self._tail = b""

    def update(self, chunk: bytes) -> None:
        if self.found or not chunk:
            return
        # The seam (the last bytes before ``chunk`` and its first ones) on its own, then
        # ``chunk``: no copy of the two joined (a match is shorter than the overlap).
        seam = self._tail + chunk[:_SCAN_OVERLAP]
        self.found = any(_markup(part) for part in (seam, chunk))
        self._tail = (
            (self._tail + chunk)[-_SCAN_OVERLAP:]
            if len(chunk) < _SCAN_OVERLAP
            else chunk[-_SCAN_OVERLAP:]
        )


def validate_image(
    data: bytes | BinaryIO,
    *,
    max_pixels: int = MAX_PIXELS,
    max_side: int = MAX_SIDE,
    scanned: MarkupScan | None = None,
) -> ImageInfo:
    """Check ``data`` (bytes, or a readable, seekable file at its start) is one whole image
    of a supported type, or raise a :class:`MediaRefused`. ``scanned``: a
    :class:`MarkupScan` already fed every byte of ``data`` in order, so the markup scan
    is not run over them again."""
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    start = source.tell()
    mime = sniff(source.read(_SNIFF_BYTES))
    if mime is None:
        raise UnsupportedType("the bytes are not a JPEG, PNG, WebP or HEIC/HEIF image")
    source.seek(start)
    if scanned.found if scanned is not None else _carries_markup(source):
        raise PolyglotImage("the image carries markup or script a browser could run")
    source.seek(start)
    width, height = _decode(source, mime, max_pixels, max_side)
    return ImageInfo(mime=mime, width=width, height=height)


def check_image(source: BinaryIO) -> None:
    """:func:`validate_image` as a ``BlobStore.put`` check (refusals propagate)."""
    validate_image(source)


def _markup(data: bytes) -> bool:
    return _TAG.search(data) is not None or _SCRIPT_URL in data.lower()


def _carries_markup(source: BinaryIO) -> bool:
    scan = MarkupScan()
    while not scan.found and (chunk := source.read(SCAN_BYTES)):
        scan.update(chunk)
    return scan.found


def _decode(source: BinaryIO, mime: str, max_pixels: int, max_side: int) -> tuple[int, int]:
    """Open, verify and fully decode the image; its size."""
    formats = [_PIL_FORMATS[mime]]
    start = source.tell()
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(source, formats=formats) as probe:
                width, height = probe.size
                if width > max_side or height > max_side or width * height > max_pixels:
                    raise TooManyPixels(f"the image is {width}×{height} pixels, over the limit")
                probe.verify()
            source.seek(start)
            with Image.open(source, formats=formats) as full:
                if mime == "image/jpeg":  # see the module docstring: every block, 1/8 scale
                    full.draft(full.mode, (max(1, width // 8), max(1, height // 8)))
                full.load()
        except MediaRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise TooManyPixels("the image decompresses to too many pixels") from exc
        except Exception as exc:  # Pillow raises many types for broken input
            raise CorruptImage("the image is truncated or corrupt") from exc
    return width, height
