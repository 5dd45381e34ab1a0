"""Validation refuses what is not one whole supported image, with stable codes."""

from __future__ import annotations

import io

import pytest
from PIL import Image

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
