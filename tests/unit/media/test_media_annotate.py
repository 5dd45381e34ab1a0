"""Annotations are drawn where their normalised coordinates say, on an upright copy."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from media import fonts
from media.annotate import render_annotated, shapes_from_json


def _white_jpeg(size: tuple[int, int], orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, "JPEG", quality=95, exif=exif)
    return buf.getvalue()


def _is_red(pixel: tuple[int, ...]) -> bool:
    return pixel[0] > 180 and pixel[1] < 90 and pixel[2] < 90


def test_shapes_land_at_their_normalised_place_on_the_upright_photo() -> None:
    shapes = shapes_from_json(
        [
            {
                "type": "circle",
                "center": {"x": 0.5, "y": 0.5},
                "radius": 0.2,
                "color": "#ff0000",
                "width": 0.02,
            },
            {
                "type": "arrow",
                "from": {"x": 0.1, "y": 0.9},
                "to": {"x": 0.1, "y": 0.6},
                "color": "#ff0000",
                "width": 0.02,
            },
            {
                "type": "text",
                "at": {"x": 0.7, "y": 0.05},
                "text": "leak",
                "color": "#ff0000",
                "size": 0.05,
            },
        ]
    )
    # Stored sideways (landscape pixels, orientation 6): upright it is portrait.
    derivative = render_annotated(_white_jpeg((800, 400), orientation=6), shapes)
    with Image.open(io.BytesIO(derivative.data)) as out:
        image = out.convert("RGB")
        assert out.format == "WEBP" and not out.getexif()
    assert image.size == (400, 800)
    w, h = image.size
    # The circle's outline crosses the horizontal through the centre 0.2 × 800 px away.
    assert _is_red(image.getpixel((round(w / 2 + 0.2 * h), h // 2)))
    assert not _is_red(image.getpixel((w // 2, h // 2)))  # an outline, not a disc
    assert _is_red(image.getpixel((round(0.1 * (w - 1)), round(0.75 * (h - 1)))))  # the shaft
    assert not _is_red(image.getpixel((w - 5, h - 5)))


def _text_ink(text: str) -> bytes:
    """The pixels of ``text`` drawn as an annotation on a white photo."""
    shapes = shapes_from_json(
        [
            {
                "type": "text",
                "at": {"x": 0.1, "y": 0.3},
                "text": text,
                "color": "#000000",
                "size": 0.1,
            }
        ]
    )
    derivative = render_annotated(_white_jpeg((600, 400)), shapes)
    with Image.open(io.BytesIO(derivative.data)) as out:
        return out.convert("L").point(lambda v: 255 if v < 128 else 0).tobytes()


def test_chinese_annotation_text_is_drawn_in_a_cjk_font_when_the_machine_has_one() -> None:
    if fonts.cjk_font_path() is None:
        pytest.skip("no Noto Sans CJK on this machine (./dev installs fonts-noto-cjk)")
    repair, leak = _text_ink("报修"), _text_ink("漏水")
    # Real glyphs: different characters leave different ink (the fallback's boxes would
    # be the same), and plenty of it.
    assert repair != leak
    assert repair.count(255) > 300 and leak.count(255) > 300


def test_without_a_cjk_font_text_falls_back_to_the_built_in_font(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(fonts, "FONT_DIRS", ())
    monkeypatch.setenv("FIELDLINE_PDF_FONT_DIR", str(tmp_path))  # an empty folder
    assert fonts.cjk_font_path() is None

    latin, chinese = _text_ink("leak"), _text_ink("报修 leak")

    assert latin.count(255) > 50  # Latin still renders; Chinese does not fail
    assert chinese.count(255) > latin.count(255) // 2
