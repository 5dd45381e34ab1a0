"""Validation refuses what is not one whole supported image, with stable codes."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from media import validate
from media.validate import (
    CorruptImage,
    PolyglotImage,
    TooManyPixels,
    UnsupportedType,
    validate_image,
)


def _image(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "mime"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_good_images_pass(fmt: str, mime: str) -> None:
    info = validate_image(_image(fmt))
    assert (info.mime, info.width, info.height) == (mime, 64, 48)


def test_truncated_jpeg_is_corrupt() -> None:
    data = _image("JPEG", (400, 300))
    with pytest.raises(CorruptImage) as exc:
        validate_image(data[: len(data) // 2])
    assert exc.value.code == "media.corrupt"


def test_html_is_unsupported_type() -> None:
    with pytest.raises(UnsupportedType) as exc:
        validate_image(b"<!doctype html><script>alert(1)</script>")
    assert (exc.value.code, exc.value.status) == ("media.unsupported_type", 415)


def test_jpeg_with_script_appended_is_refused() -> None:
    with pytest.raises(PolyglotImage):
        validate_image(_image("JPEG") + b"<script>alert(1)</script>")


def test_svg_named_png_is_refused() -> None:
    with pytest.raises(UnsupportedType):
        validate_image(b'<svg xmlns="http://www.w3.org/2000/svg"></svg>')


def test_too_many_pixels_is_refused() -> None:
    with pytest.raises(TooManyPixels) as exc:
        validate_image(_image("PNG", (3000, 3000)), max_pixels=1_000_000)
    assert exc.value.code == "media.too_many_pixels"


def _noise_jpeg(size: tuple[int, int], seed: int = 7) -> bytes:
    """Incompressible pixels: entropy-coded data as close to random as photos get."""
    rng = random.Random(seed)
    pixels = rng.randbytes(size[0] * size[1] * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(out, "JPEG", quality=95)
    return out.getvalue()


def test_a_heic_made_by_pillow_heif_passes_and_a_truncated_one_is_corrupt() -> None:
    heic = _image("HEIF")
    info = validate_image(heic)
    assert (info.mime, info.width, info.height) == ("image/heic", 64, 48)
    with pytest.raises(CorruptImage):
        validate_image(heic[: len(heic) // 2])


def test_images_are_validated_from_a_file_without_reading_it_into_memory(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(_image("PNG"))
    with path.open("rb") as handle:
        assert validate_image(handle).mime == "image/png"


def test_a_large_noisy_photo_is_not_mistaken_for_markup() -> None:
    data = _noise_jpeg((1600, 1200))
    assert len(data) > 1_000_000
    assert validate_image(data).mime == "image/jpeg"


def test_a_jpeg_cut_anywhere_in_its_pixel_data_is_corrupt_even_though_decoded_small() -> None:
    data = _noise_jpeg((1600, 1200))
    for cut in (len(data) // 3, len(data) - 4096):
        with pytest.raises(CorruptImage):
            validate_image(data[:cut])


@pytest.mark.parametrize("offset", [0, 1, 3, 7])
def test_markup_split_across_two_reads_is_still_found(offset: int) -> None:
    body = _image("JPEG")
    padding = b"\0" * (validate.SCAN_BYTES - len(body) - offset)  # straddles one read
    with pytest.raises(PolyglotImage):
        validate_image(body + padding + b"<script>alert(1)</script>")


@pytest.mark.parametrize("markup", [b"<SCRIPT>alert(1)</SCRIPT>", b"JavaScript:alert(1)"])
def test_markup_is_found_whatever_its_case(markup: bytes) -> None:
    with pytest.raises(PolyglotImage):
        validate_image(_image("PNG") + markup)


@pytest.mark.parametrize("piece", [1, 5, 333, 4096])
@pytest.mark.parametrize(
    "markup", [b"<script>alert(1)</script>", b"javascript:alert(1)", b'<svg onload="x">']
)
def test_a_scan_fed_in_pieces_of_any_size_finds_what_the_file_scan_finds(
    piece: int, markup: bytes
) -> None:
    body = _image("JPEG")
    clean, hostile = validate.MarkupScan(), validate.MarkupScan()
    for data, scan in ((body, clean), (body + markup, hostile)):
        for at in range(0, len(data), piece):
            scan.update(data[at : at + piece])

    assert not clean.found
    assert hostile.found
    assert validate_image(body, scanned=clean).mime == "image/jpeg"
    with pytest.raises(PolyglotImage):
        validate_image(body + markup, scanned=hostile)


@pytest.mark.parametrize("blanks", [1, 16, 17, 1500])
def test_a_scan_in_pieces_agrees_with_the_whole_bytes_on_any_doctype(blanks: int) -> None:
    data = _image("JPEG") + b"<!doctype" + b" " * blanks + b"html>"
    whole = validate._markup(data)
    for cut in range(len(data) - blanks - 10, len(data)):
        scan = validate.MarkupScan()
        scan.update(data[:cut])
        scan.update(data[cut:])
        assert scan.found == whole, cut
    assert whole == (blanks <= 16)


# Pieces of markup (and near misses) for the scan's property tests: each far shorter than
# the scan's overlap between reads, so the whole stream's verdict is the oracle.
_MARKUP_PIECES = (
    b"<script>",
    b"<svg onload=alert(1)>",
    b"<svg/>",
    b"<!doctype html>",
    b"<!DOCTYPE\t\nHTML x=1>",
    b"<html>",
    b"<head\x00>",
    b"<body\n class=a>",
    b"<iframe src=x>",
    b"<object>",
    b"<embed/x>",
    b"javascript:",
    b"avascript:",
    b"javascrip:",
    b"<scrip>",
    b"<\x01doctype html>",
    b"<svg" + b"x" * 600 + b">",
    b"<",
    b">",
    b":",
    b"/",
)


@st.composite
def _markup_piece(draw: st.DrawFn) -> bytes:
    """A piece of markup with its letters in any case."""
    piece = draw(st.sampled_from(_MARKUP_PIECES))
    flips = draw(st.integers(min_value=0, max_value=2 ** len(piece) - 1))
    return bytes(
        b ^ 0x20 if chr(b).isalpha() and flips >> i & 1 else b for i, b in enumerate(piece)
    )


@st.composite
def _noise_with_markup(draw: st.DrawFn) -> bytes:
    """Noise (like a photo's entropy-coded data) of any length up to 80 KB, with pieces of
    markup put in anywhere."""
    noise = bytearray(
        random.Random(draw(st.integers(0, 2**32))).randbytes(
            draw(st.integers(min_value=0, max_value=80_000))
        )
    )
    for piece in draw(st.lists(_markup_piece(), max_size=4)):
        at = draw(st.integers(min_value=0, max_value=len(noise)))
        noise[at:at] = piece
    return bytes(noise)


@given(st.lists(st.one_of(st.binary(max_size=40), _markup_piece())).map(b"".join))
def test_the_vectorized_markup_test_agrees_with_its_definition_on_any_bytes(data: bytes) -> None:
    assert validate._markup_vectorized(data) == validate._markup(data)


@given(_noise_with_markup())
def test_the_vectorized_markup_test_agrees_with_its_definition_in_noise(data: bytes) -> None:
    assert validate._markup_vectorized(data) == validate._markup(data)


@given(_noise_with_markup(), st.data())
def test_a_scan_fed_in_any_pieces_finds_markup_exactly_when_the_whole_bytes_have_it(
    data: bytes, draw: st.DataObject
) -> None:
    cuts = sorted(draw.draw(st.lists(st.integers(0, len(data)), max_size=8)))
    scan = validate.MarkupScan()
    for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True):
        scan.update(data[start:end])

    assert scan.found == validate._markup(data)
