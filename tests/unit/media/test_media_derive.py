"""Derivatives are upright WebP without EXIF (no GPS leaves the server in one)."""

from __future__ import annotations

import io

from PIL import Image

from media.derive import make_derivatives


def _rotated_jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (800, 400), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}  # GPS IFD
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def test_derivatives_are_upright_webp_without_exif() -> None:
    derivs = {d.name: d for d in make_derivatives(_rotated_jpeg_with_gps())}
    assert set(derivs) == {"thumb", "display"}
    thumb = derivs["thumb"]
    assert (thumb.width, thumb.height) == (160, 320)  # portrait once orientation is applied
    with Image.open(io.BytesIO(thumb.data)) as out:
        assert out.format == "WEBP"
        assert not out.getexif()
        assert "exif" not in out.info
