"""Image validation before anything is kept: magic bytes, markup, structure or decode, limits.

Every refusal carries a stable problem code (``media.*``, :mod:`media.refusals`) and the
HTTP status the API maps it to; a caller validates *before* it writes a blob row, an
evidence row or a file, so a refused upload leaves nothing behind. :func:`check_image`
fits ``BlobStore.put``'s ``check``: the store hands it the verified bytes on local disk
before they become visible.

Validation reads from a file, never the whole body into memory: the type comes from
the first bytes, then one pass reads 1 MiB at a time for the markup scan and, for a
JPEG, the walk of its structure (:mod:`media.jpeg_check`: every segment and scan up to
the end-of-image marker, the header read by libjpeg itself, the limits from the frame),
unless both were fed the bytes as they arrived (:class:`MarkupScan`,
:class:`~media.jpeg_check.JpegCheck`); Pillow then opens and verifies the file. A
JPEG's pixels are not decoded here: libjpeg treats damage inside the entropy-coded data
as a warning, so a decode refuses nothing there that the walk lets through (a test
checks that by property), and it would cost 20 times the walk. The photo pipeline
decodes every photo later for its derivatives. PNG, WebP and HEIC/HEIF are decoded
whole, so their cost is bounded by :data:`MAX_PIXELS`.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pillow_heif
from PIL import Image

from media.jpeg_check import JpegCheck
from media.refusals import (
    CorruptImage,
    MediaRefused,
    PolyglotImage,
    TooManyPixels,
    UnsupportedType,
)

__all__ = [  # the refusals are raised (and imported by callers) from here
    "MAX_PIXELS",
    "MAX_SIDE",
    "CorruptImage",
    "ImageInfo",
    "MarkupScan",
    "MediaRefused",
    "PolyglotImage",
    "TooManyPixels",
    "UnsupportedType",
    "check_image",
    "sniff",
    "validate_image",
]

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
# A doctype's blanks are bounded (a browser sniffs HTML by "<!DOCTYPE HTML" with one
# space), so no match is longer than the overlap between two reads: otherwise one split
# across a seam would be missed where the whole file's scan finds it.
_TAGS = rb"!doctype\s{1,16}html|html|head|body|script|svg|iframe|object|embed"
# One literal first byte ("<") lets the regex engine skip ahead fast; a script URL is
# looked for in a lowercased copy, which is several times faster than an IGNORECASE
# regex. Still, these two over every byte cost about 0.07 s per 50 MB of noise here, so a
# large piece is scanned by :func:`_markup_vectorized` instead (about 0.02 s).
_TAG = re.compile(rb"<(?:" + _TAGS + rb")(?:>|[\s/][\x09-\x0d\x20-\x7e]{0,512}?>)", re.IGNORECASE)
_SCRIPT_URL = b"javascript:"
# :func:`_markup_vectorized` finds where a match could start with numpy and runs the
# expressions above only there. ``_TAG_STARTS``: the two bytes after "<" that begin one
# of the tags, each OR 0x20 (which maps a letter's capital, and no other byte, onto the
# small letter; "!" also lets 0x01 through, which the expression then refuses).
_VECTOR_FROM = 16 * 1024  # smaller pieces: the expressions alone (numpy's calls cost more)
_TAG_STARTS = np.zeros((256, 256), dtype=np.bool_)
for _name in (b"!d", b"ht", b"he", b"bo", b"sc", b"sv", b"if", b"ob", b"em"):
    _TAG_STARTS[_name[0] | 0x20, _name[1] | 0x20] = True


@dataclass(frozen=True)
class ImageInfo:
    mime: str
    width: int
    height: int


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
        self.found = _markup(seam) or (
            _markup_vectorized(chunk) if len(chunk) >= _VECTOR_FROM else _markup(chunk)
        )
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
    checked: JpegCheck | None = None,
) -> ImageInfo:
    """Check ``data`` (bytes, or a readable, seekable file at its start) is one whole image
    of a supported type, or raise a :class:`MediaRefused`. ``scanned``: a
    :class:`MarkupScan` already fed every byte of ``data`` in order, so the markup scan
    is not run over them again; ``checked``: likewise a :class:`JpegCheck` (used if its
    limits are these), so a JPEG's structure is not walked again."""
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    start = source.tell()
    mime = sniff(source.read(_SNIFF_BYTES))
    if mime is None:
        raise UnsupportedType("the bytes are not a JPEG, PNG, WebP or HEIC/HEIF image")
    walk = None  # a JPEG walk to feed here, unless one was fed every byte under these limits
    if mime == "image/jpeg" and (
        checked is None or (checked.max_pixels, checked.max_side) != (max_pixels, max_side)
    ):
        checked = walk = JpegCheck(max_pixels, max_side)
    source.seek(start)
    if scanned is None or walk is not None:
        scanned = _read_through(source, scanned, walk)
        source.seek(start)
    if scanned.found:
        raise PolyglotImage("the image carries markup or script a browser could run")
    if mime == "image/jpeg" and checked is not None:
        width, height = checked.result()
        _open_jpeg(source)
    else:
        width, height = _decode(source, mime, max_pixels, max_side)
    return ImageInfo(mime=mime, width=width, height=height)


def _read_through(
    source: BinaryIO, scanned: MarkupScan | None, walk: JpegCheck | None
) -> MarkupScan:
    """One pass over ``source`` feeds each read to the markup scan (a new one, unless
    ``scanned`` was fed every byte already) and to the JPEG walk, if any."""
    scan = scanned if scanned is not None else MarkupScan()
    while chunk := source.read(SCAN_BYTES):
        if scanned is None:
            scan.update(chunk)
        if walk is not None:
            walk.update(chunk)
        elif scan.found:
            break  # refused whatever follows: nothing else to learn
    return scan


def _open_jpeg(source: BinaryIO) -> None:
    """Pillow opens and verifies the whole file's header (its own reading of the
    segments, the EXIF the pipeline will read), as the photo pipeline will."""
    try:
        with Image.open(source, formats=["JPEG"]) as image:
            image.verify()
    except Exception as exc:  # Pillow raises many types for broken input
        raise CorruptImage("the image is truncated or corrupt") from exc


def _check_size(width: int, height: int, max_pixels: int, max_side: int) -> None:
    if width > max_side or height > max_side or width * height > max_pixels:
        raise TooManyPixels(f"the image is {width}×{height} pixels, over the limit")


def check_image(source: BinaryIO) -> None:
    """:func:`validate_image` as a ``BlobStore.put`` check (refusals propagate)."""
    validate_image(source)


def _markup(data: bytes) -> bool:
    """The definition of markup: what :func:`_markup_vectorized` must agree with."""
    return _TAG.search(data) is not None or _SCRIPT_URL in data.lower()


def _markup_vectorized(data: bytes) -> bool:
    """:func:`_markup`, several times faster on a large piece: numpy finds every "<" and
    ":" (its comparisons run without the GIL, beside the JPEG decoder thread), keeps
    those whose neighbours could begin a tag or end "javascript:", and only there the
    exact test runs. On noise (a photo's entropy-coded data) 1 MiB holds about 4,000 of
    each and about 20 candidates: the regular expression alone tried every "<" with
    case folding, and the script URL lowercased a copy of every byte."""
    size = len(data)
    if size < 3:
        return False
    array = np.frombuffer(data, dtype=np.uint8)
    opens = np.flatnonzero(array[:-2] == 0x3C)  # "<" with two bytes after it
    starts = opens[_TAG_STARTS[array[opens + 1] | 0x20, array[opens + 2] | 0x20]]
    if any(_TAG.match(data, at) for at in starts.tolist()):
        return True
    ends = np.flatnonzero(array[10:] == 0x3A) + 10  # ":" after ten bytes
    ends = ends[((array[ends - 1] | 0x20) == 0x74) & ((array[ends - 2] | 0x20) == 0x70)]
    return any(data[at - 10 : at + 1].lower() == _SCRIPT_URL for at in ends.tolist())


def _decode(source: BinaryIO, mime: str, max_pixels: int, max_side: int) -> tuple[int, int]:
    """Open, verify and fully decode the image (a PNG, WebP or HEIC/HEIF); its size."""
    formats = [_PIL_FORMATS[mime]]
    start = source.tell()
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(source, formats=formats) as probe:
                width, height = probe.size
                _check_size(width, height, max_pixels, max_side)
                probe.verify()
            source.seek(start)
            with Image.open(source, formats=formats) as full:
                full.load()
        except MediaRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise TooManyPixels("the image decompresses to too many pixels") from exc
        except Exception as exc:  # Pillow raises many types for broken input
            raise CorruptImage("the image is truncated or corrupt") from exc
    return width, height
