"""Profile portraits: square, upright, the sizes asked for, without EXIF, from any shape."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from media.derive import make_portraits
from tests.support.photos import camera_jpeg


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize("size", [(4000, 3000), (1200, 800), (800, 1200), (3000, 600)])
def test_every_shape_becomes_square_portraits_of_the_sizes_asked_for(
    size: tuple[int, int],
) -> None:
    portraits = {p.name: p for p in make_portraits(camera_jpeg(size, orientation=None))}
    assert {name: (p.width, p.height) for name, p in portraits.items()} == {
        "large": (320, 320),
        "small": (96, 96),
    }
    for portrait in portraits.values():
        image = _open(portrait.data)
        assert image.format == "WEBP" and image.size == (portrait.width, portrait.height)
        assert not image.getexif()


def test_a_sideways_camera_photo_is_turned_upright_before_it_is_cropped() -> None:
    # Stored 1200x800 with "rotate 90° clockwise": upright it is 800x1200, dark corner top right.
    large = next(p for p in make_portraits(camera_jpeg((1200, 800))) if p.name == "large")
    image = _open(large.data).convert("RGB")
    assert image.getpixel((310, 10))[0] < 60 and image.getpixel((10, 10))[0] > 150


def test_a_photo_smaller_than_a_portrait_is_not_enlarged() -> None:
    small_photo = camera_jpeg((200, 150), orientation=None)
    sizes = {p.name: p.width for p in make_portraits(small_photo)}
    assert sizes == {"large": 150, "small": 96}
