"""The pipeline's engine: EXIF facts read right (or dropped when impossible), the original
decoded at the smallest scale that still covers the display size, a placeholder, and a
refusal with a stable code for anything that is not a whole image."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image, ImageChops, ImageStat

from media.derive import make_derivatives
from media.exif import read_metadata
from media.pipeline import process_photo
from media.validate import CorruptImage, UnsupportedType


def _jpeg(size: tuple[int, int], exif: Image.Exif | None = None, color: object = "red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG", quality=90, exif=exif or Image.Exif())  # type: ignore[arg-type]
    return buf.getvalue()


def _exif(gps: dict[int, object], details: dict[int, object] | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x8825] = gps
    if details is not None:
        exif[0x8769] = details
    return exif


def _metadata(exif: Image.Exif):  # type: ignore[no-untyped-def]
    with Image.open(io.BytesIO(_jpeg((16, 16), exif))) as img:
        return read_metadata(img.getexif())


def test_southern_and_western_positions_are_negative() -> None:
    meta = _metadata(
        _exif({1: "S", 2: (33.0, 52.0, 4.0), 3: "W", 4: (70.0, 40.0, 0.0), 5: b"\x01", 6: 3.0})
    )
    assert (meta.lat, meta.lon, meta.alt) == (-33.8677778, -70.6666667, -3.0)


def test_an_impossible_position_is_dropped_not_guessed() -> None:
    meta = _metadata(_exif({1: "N", 2: (95.0, 0.0, 0.0), 3: "E", 4: (10.0, 0.0, 0.0)}))
    assert (meta.lat, meta.lon, meta.alt) == (None, None, None)


def test_capture_time_is_an_instant_only_when_the_zone_is_known() -> None:
    zoned = _metadata(_exif({}, {0x9003: "2026:12:01 09:30:00", 0x9011: "-05:00"}))
    assert zoned.captured_at == datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    local = _metadata(_exif({}, {0x9003: "2026:12:01 09:30:00"}))
    assert (local.captured_at, local.captured_local) == (None, "2026-12-01T09:30:00")
    by_gps = _metadata(_exif({7: (1.0, 2.0, 3.0), 29: "2026:12:01"}))
    assert by_gps.captured_at == datetime(2026, 12, 1, 1, 2, 3, tzinfo=UTC)
    nonsense = _metadata(_exif({}, {0x9003: "2026:13:45 99:00:00", 0x9011: "+08:00"}))
    assert (nonsense.captured_at, nonsense.captured_local) == (None, None)


@pytest.mark.parametrize(
    ("size", "display"),
    [
        ((4000, 3000), (1500, 1125)),  # 3/8 lands within 10 % under 1600: used as it is
        ((4032, 3024), (1512, 1134)),  # an iPhone's 12 megapixels
        ((3000, 4000), (1125, 1500)),
        ((4624, 3468), (1600, 1200)),  # 3/8 is 1734, too large: 1/2, then shrunk
        ((3264, 2448), (1600, 1200)),  # 3/8 is 1224, too small: 1/2, then shrunk
        ((1200, 900), (1200, 900)),  # never enlarged
    ],
)
def test_a_large_jpeg_is_decoded_in_draft_mode_at_display_size(
    size: tuple[int, int], display: tuple[int, int]
) -> None:
    data = _jpeg(size)
    sizes = {d.name: (d.width, d.height) for d in make_derivatives(data)}
    assert sizes["display"] == display
    assert max(sizes["thumb"]) == 320
    assert make_derivatives(data, draft=False)[0].data[:4] == b"RIFF"


def test_a_three_eighths_decode_shows_what_a_full_decode_shrunk_shows() -> None:
    """The 3/8 DCT scaling is set on Pillow's decoder by hand (``draft`` never asks for
    it): the picture must be the photo, upright, not a shifted or garbled copy."""
    gradient = Image.linear_gradient("L").resize((4000, 3000))
    photo = Image.merge(
        "RGB", (gradient, gradient.rotate(90, expand=False), gradient.point(lambda v: 255 - v))
    )
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: upright is 3000×4000
    buf = io.BytesIO()
    photo.save(buf, "JPEG", quality=90, exif=exif)

    fast = make_derivatives(buf.getvalue())[0]
    slow = make_derivatives(buf.getvalue(), {"display": 1500}, draft=False)[0]

    assert (fast.width, fast.height) == (slow.width, slow.height) == (1125, 1500)
    with Image.open(io.BytesIO(fast.data)) as a, Image.open(io.BytesIO(slow.data)) as b:
        difference = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
        mean = sum(ImageStat.Stat(difference).mean) / 3
    assert mean < 3  # out of 255: WebP and scaling noise, nothing more


def test_the_placeholder_says_the_photos_colour() -> None:
    processed = process_photo(_jpeg((640, 480), color=(0, 0, 255)))
    red, green, blue = (int(processed.placeholder.color[i : i + 2], 16) for i in (1, 3, 5))
    assert blue > 200 and red < 40 and green < 40
    assert len(processed.placeholder.blurhash) == 28  # 4×3 components


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"GIF89a" + b"\x00" * 100, UnsupportedType.code),
        (_jpeg((64, 64))[:300], CorruptImage.code),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 500, CorruptImage.code),
    ],
)
def test_what_is_not_a_whole_image_is_refused_with_a_code(data: bytes, code: str) -> None:
    with pytest.raises(Exception) as refused:
        process_photo(data)
    assert getattr(refused.value, "code", None) == code
