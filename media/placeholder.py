"""What a client paints while a photo loads: a blurhash and one dominant colour.

Both are computed from a small copy of the upright image (the thumbnail), so they
cost a few milliseconds next to the decode. The blurhash is the
`blurhash <https://blurha.sh>`_ string (4×3 components: about 28 characters); the
colour is ``#rrggbb``, the most common of a few representative colours, for clients
that only paint a flat box.
"""

from __future__ import annotations

from dataclasses import dataclass

import blurhash  # type: ignore[import-untyped]
from PIL import Image

_SAMPLE = 12  # the blurhash is computed from at most 12×12 pixels: it only keeps 4×3 waves
_COMPONENTS = (4, 3)  # along the long side, along the short side


@dataclass(frozen=True)
class Placeholder:
    blurhash: str
    color: str  # "#rrggbb"


def placeholder(image: Image.Image) -> Placeholder:
    """The placeholder of an RGB image (any size; a thumbnail is enough)."""
    sample = image.convert("RGB")
    sample.thumbnail((_SAMPLE, _SAMPLE), Image.Resampling.BOX)
    width, height = sample.size
    raw = sample.tobytes()
    rows = [
        [tuple(raw[i : i + 3]) for i in range(row * width * 3, (row + 1) * width * 3, 3)]
        for row in range(height)
    ]
    x, y = _COMPONENTS if width >= height else _COMPONENTS[::-1]
    return Placeholder(blurhash.encode(rows, x, y), _dominant(sample))


def _dominant(sample: Image.Image) -> str:
    palette = sample.quantize(colors=5, method=Image.Quantize.MEDIANCUT)
    counts = palette.getcolors() or [(1, 0)]
    _, index = max(counts)
    colours = palette.getpalette() or [0, 0, 0]
    at = 3 * int(index)  # type: ignore[call-overload]  # a palette index: an int
    red, green, blue = colours[at : at + 3]
    return f"#{red:02x}{green:02x}{blue:02x}"
