"""Real image bytes for tests: uploads are validated, so fake "JPEG" bytes are refused."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import zlib

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


def pixel_bomb_png(width: int, height: int) -> bytes:
    """A valid greyscale PNG of ``width`` × ``height`` black pixels, compressed as far
    as zlib goes (about 1:1000): 10,000 × 10,000 is 100 MB of pixels in about 100 KB.
    Written row by row, so making it never holds the pixels in memory."""
    squeeze = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter type 0, then one byte a pixel
    idat = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + (_png_chunk(b"IEND", b""))
    )


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) claims ``width`` × ``height`` pixels: what a
    decoder would allocate before it finds the data is for far fewer."""
    data = jpeg("a lie about its size", (32, 24))
    sof = data.index(b"\xff\xc0")  # length (2), precision (1), height (2), width (2)
    assert struct.unpack(">HBHH", data[sof + 2 : sof + 9])[2:] == (24, 32), "not the SOF0"
    return data[: sof + 5] + struct.pack(">HH", height, width) + data[sof + 9 :]
