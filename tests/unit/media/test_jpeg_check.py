"""The JPEG structure walk refuses what a full decode refuses, in pieces of any size.

:mod:`media.jpeg_check` replaced the validating decode of every entropy-coded block; the
property that allows it: any corruption of a JPEG that libjpeg (through Pillow) refuses
to decode, validation still refuses. Corruptions are random (truncation, flipped bits,
overwritten, inserted and deleted bytes, anywhere from the first byte on), over JPEGs of
every kind an encoder writes: baseline, progressive, optimised tables, restart markers,
chroma subsampling, grayscale, CMYK.
"""

from __future__ import annotations

import io
import random
import warnings
from collections.abc import Callable
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from media.jpeg_check import JpegCheck
from media.validate import (
    MAX_PIXELS,
    MAX_SIDE,
    CorruptImage,
    MediaRefused,
    TooManyPixels,
    validate_image,
)

_KINDS = {
    "baseline": {"quality": 95},
    "progressive": {"quality": 90, "progressive": True},
    "optimised 4:2:0": {"quality": 60, "optimize": True, "subsampling": 2},
    "restart markers": {"quality": 90, "restart_marker_blocks": 1},
    "progressive 4:2:2": {"progressive": True, "subsampling": 1},
}


@cache
def corpus() -> dict[str, bytes]:
    """Small JPEGs of noise (every block coded), one of each kind and two sizes."""
    made: dict[str, bytes] = {}
    rng = random.Random(7)
    for width, height in ((96, 64), (33, 17)):
        image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
        for kind, options in _KINDS.items():
            made[f"{kind} {width}"] = _save(image, **options)
        made[f"gray progressive {width}"] = _save(image.convert("L"), progressive=True)
        made[f"cmyk {width}"] = _save(image.convert("CMYK"))
    return made


def _save(image: Image.Image, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", **options)
    return out.getvalue()


def walked(data: bytes, pieces: list[int] | None = None) -> tuple[int, int]:
    check = JpegCheck(MAX_PIXELS, MAX_SIDE)
    at = 0
    for size in pieces or []:
        check.update(data[at : at + size])
        at += size
    check.update(data[at:])
    return check.result()


def decode_refuses(data: bytes) -> bool:
    """What validation did before the walk: open, verify, decode every block (1/8 scale)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as probe:
                probe.verify()
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
                image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
    except Exception:
        return True
    return False


def validation_refuses(data: bytes) -> bool:
    try:
        validate_image(data)
    except MediaRefused:
        return True
    return False


@st.composite
def corruptions(draw: st.DrawFn) -> bytes:
    data = bytearray(corpus()[draw(st.sampled_from(sorted(corpus())))])
    size = len(data)
    at = draw(st.integers(0, size - 1))
    span = draw(st.integers(1, 64))
    kind = draw(st.sampled_from(["truncate", "flip", "overwrite", "insert", "delete", "head"]))
    if kind == "truncate":
        return bytes(data[: max(2, at)])
    if kind == "flip":
        for _ in range(draw(st.integers(1, 3))):
            data[draw(st.integers(0, size - 1))] ^= 1 << draw(st.integers(0, 7))
    elif kind == "overwrite":
        data[at : at + span] = draw(st.binary(min_size=span, max_size=span))
    elif kind == "insert":
        data[at:at] = draw(st.binary(min_size=1, max_size=32))
    elif kind == "delete":
        del data[at : at + span]
    else:  # one byte of the header: tables, frame, scan header
        data[draw(st.integers(2, min(size, 700) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@settings(max_examples=600)
@given(corruptions())
def test_whatever_a_full_decode_refuses_validation_refuses(data: bytes) -> None:
    if decode_refuses(data):
        assert validation_refuses(data)


@given(st.sampled_from(sorted(corpus())), st.lists(st.integers(1, 600), max_size=40))
def test_every_kind_of_jpeg_passes_in_pieces_of_any_size(name: str, pieces: list[int]) -> None:
    data = corpus()[name]
    assert walked(data, pieces) == Image.open(io.BytesIO(data)).size
    assert not validation_refuses(data)


@given(corruptions(), st.lists(st.integers(1, 300), max_size=30))
def test_the_verdict_does_not_depend_on_how_the_bytes_were_cut(
    data: bytes, pieces: list[int]
) -> None:
    def verdict(cut: list[int] | None) -> object:
        try:
            return walked(data, cut)
        except MediaRefused as refusal:
            return refusal.code

    assert verdict(pieces) == verdict(None)


def test_every_truncation_is_refused() -> None:
    data = corpus()["progressive 96"]
    for end in (*range(2, 700, 7), *range(len(data) - 300, len(data))):
        with pytest.raises(CorruptImage):
            walked(data[:end])


def test_bytes_after_the_end_of_image_are_not_the_walks_business() -> None:
    data = corpus()["baseline 96"]
    assert walked(data + b"\x00" * 100 + b"\xff\xd8\xff\xe1 trailer") == (96, 64)


def test_photos_as_cameras_write_them_pass() -> None:
    """EXIF, an ICC profile, a comment, a JFIF thumbnail-sized APP0, and an MPO (a second
    JPEG after the first one's end, as phones write depth and wide-angle pictures)."""
    image = Image.frombytes("RGB", (120, 80), random.Random(3).randbytes(120 * 80 * 3))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Fieldline test camera"
    rich = _save(image, exif=exif, icc_profile=b"\x00" * 3000, comment=b"site 7")
    assert walked(rich) == (120, 80)
    mpo = io.BytesIO()
    image.save(mpo, "MPO", save_all=True, append_images=[image.rotate(90)])
    assert walked(mpo.getvalue()) == (120, 80)
    assert validate_image(mpo.getvalue()).mime == "image/jpeg"


@pytest.mark.parametrize(
    ("damage", "detail"),
    [
        (lambda d: d[:-2], "truncated"),
        (lambda d: d[:-2] + b"\xff\xd8\xff\xd9", "second start-of-image"),
        (lambda d: d[:-2] + b"\xff\x05\xff\xd9", "no decoder reads"),
        (lambda d: d[:-2] + b"\xff\xc8\x00\x02\xff\xd9", "no decoder reads"),
        (lambda d: d[:2] + b"\xff\xe1\x00\x01" + d[2:], "impossible length"),
    ],
)
def test_broken_structure_says_what_is_wrong(damage: Callable[[bytes], bytes], detail: str) -> None:
    with pytest.raises(CorruptImage, match=detail):
        walked(damage(corpus()["baseline 96"]))


def test_a_scan_naming_a_table_never_defined_is_refused() -> None:
    data = corpus()["progressive 96"]
    sos = data.index(b"\xff\xda", data.index(b"\xff\xda") + 2)  # the second scan
    count = data[sos + 4]
    tables = sos + 6 + 2 * (count - 1)  # the last component's table selectors
    damaged = data[:tables] + bytes([data[tables] | 0x03]) + data[tables + 1 :]
    assert decode_refuses(damaged)
    with pytest.raises(CorruptImage, match="Huffman table it lacks"):
        walked(damaged)


def test_a_huffman_table_with_too_many_codes_is_refused() -> None:
    data = corpus()["baseline 96"]
    dht = data.index(b"\xff\xc4")
    counts = dht + 5  # after the marker, the length and the class/index byte
    damaged = data[:counts] + b"\x03" + data[counts + 1 :]  # three codes of one bit
    assert decode_refuses(damaged)
    with pytest.raises(CorruptImage):
        walked(damaged)


def test_a_frame_over_the_limits_is_refused_from_its_header_alone() -> None:
    data = _save(Image.new("RGB", (300, 200)))
    header = data[: data.index(b"\xff\xda")]
    check = JpegCheck(max_pixels=50_000, max_side=MAX_SIDE)
    check.update(header)
    with pytest.raises(TooManyPixels):
        check.result()


def test_a_header_of_endless_tables_is_refused_rather_than_held() -> None:
    data = corpus()["baseline 96"]
    dqt = data.index(b"\xff\xdb")
    length = int.from_bytes(data[dqt + 2 : dqt + 4], "big")
    table = data[dqt : dqt + 2 + length]
    check = JpegCheck(MAX_PIXELS, MAX_SIDE)
    check.update(data[:dqt] + table * 1000)
    with pytest.raises(CorruptImage, match="more tables"):
        check.result()


def test_a_file_of_endless_empty_segments_is_refused_early() -> None:
    """Each segment costs the walk Python work: millions of empty comments are refused
    at the cap, not walked to the end."""
    data = corpus()["baseline 96"]
    check = JpegCheck(MAX_PIXELS, MAX_SIDE)
    check.update(data[:2] + b"\xff\xfe\x00\x02" * 1_000_000)
    with pytest.raises(CorruptImage, match="more segments"):
        check.result()


@pytest.mark.parametrize("piece", [1, 1000, 1024 * 1024])
def test_a_run_of_fill_bytes_across_pieces_still_ends_at_its_marker(piece: int) -> None:
    """libjpeg lets any number of 0xFF fill bytes precede a marker."""
    data = corpus()["baseline 96"]
    padded = data[:-2] + b"\xff" * (3 * 1024 * 1024) + data[-2:]
    assert walked(padded, [piece] * (len(padded) // piece)) == (96, 64)
