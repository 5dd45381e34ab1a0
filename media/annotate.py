"""Annotations over a photo: arrows, circles and text as vector data, rendered with Pillow.

Shapes are kept in normalised coordinates over the upright original: ``x`` and ``y``
run from 0 to 1 across its width and height, so the same annotation fits every
size the photo is rendered at. Stroke widths, circle radii and text sizes are
fractions of the image's long side, for the same reason. Text is set in Noto Sans
CJK when the machine has it, so Chinese labels read as Chinese (:mod:`media.fonts`).
The office's original stays untouched: the annotated image is a separate derivative.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw

from media.derive import Derivative, encode, open_upright, shrink
from media.fonts import text_font
from media.validate import CorruptImage

ANNOTATED_SIDE = 1600  # as the display derivative


@dataclass(frozen=True)
class Point:
    x: float  # 0..1 across the width
    y: float  # 0..1 down the height


@dataclass(frozen=True)
class Arrow:
    start: Point
    end: Point
    color: str = "#ff3b30"
    width: float = 0.006


@dataclass(frozen=True)
class Circle:
    center: Point
    radius: float  # of the long side
    color: str = "#ff3b30"
    width: float = 0.006


@dataclass(frozen=True)
class Text:
    at: Point  # top left of the text
    text: str
    color: str = "#ff3b30"
    size: float = 0.04


Shape = Arrow | Circle | Text


def shapes_from_json(items: Sequence[Mapping[str, Any]]) -> list[Shape]:
    """Shapes from their stored JSON form (already validated by the API)."""
    shapes: list[Shape] = []
    for item in items:
        kind = item["type"]
        if kind == "arrow":
            shapes.append(
                Arrow(_point(item["from"]), _point(item["to"]), item["color"], item["width"])
            )
        elif kind == "circle":
            shapes.append(
                Circle(_point(item["center"]), item["radius"], item["color"], item["width"])
            )
        elif kind == "text":
            shapes.append(Text(_point(item["at"]), item["text"], item["color"], item["size"]))
    return shapes


def render_annotated(data: bytes, shapes: Sequence[Shape], name: str = "annotated") -> Derivative:
    """The photo upright at display size with ``shapes`` drawn over it, as WebP."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            upright = open_upright(img, ANNOTATED_SIDE)
    except Exception as exc:  # Pillow raises many types for broken input
        raise CorruptImage("the image is truncated or corrupt") from exc
    canvas = shrink(upright, ANNOTATED_SIDE)
    draw_shapes(canvas, shapes)
    return encode(name, canvas, icc=upright.info.get("icc_profile"))


def draw_shapes(image: Image.Image, shapes: Sequence[Shape]) -> None:
    """Draw ``shapes`` onto ``image`` in place."""
    draw = ImageDraw.Draw(image)
    long_side = max(image.size)
    for shape in shapes:
        if isinstance(shape, Arrow):
            _arrow(draw, image.size, shape, max(1, round(shape.width * long_side)))
        elif isinstance(shape, Circle):
            cx, cy = _xy(image.size, shape.center)
            width = max(1, round(shape.width * long_side))
            r = shape.radius * long_side + width / 2  # Pillow strokes inside the box
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=shape.color, width=width)
        else:
            font = text_font(max(8, round(shape.size * long_side)))
            draw.text(_xy(image.size, shape.at), shape.text, fill=shape.color, font=font)


def _arrow(draw: ImageDraw.ImageDraw, size: tuple[int, int], arrow: Arrow, width: int) -> None:
    (x1, y1), (x2, y2) = _xy(size, arrow.start), _xy(size, arrow.end)
    draw.line((x1, y1, x2, y2), fill=arrow.color, width=width)
    angle = math.atan2(y2 - y1, x2 - x1)
    head = max(4 * width, 12)
    left = (x2 - head * math.cos(angle - 0.5), y2 - head * math.sin(angle - 0.5))
    right = (x2 - head * math.cos(angle + 0.5), y2 - head * math.sin(angle + 0.5))
    draw.polygon([(x2, y2), left, right], fill=arrow.color)


def _xy(size: tuple[int, int], point: Point) -> tuple[float, float]:
    return point.x * (size[0] - 1), point.y * (size[1] - 1)


def _point(raw: Mapping[str, Any]) -> Point:
    return Point(float(raw["x"]), float(raw["y"]))
